#include "train/trainer_recipe.h"

#include "common/error.h"

namespace aligners::train {

void apply_recipe(Recipe r, AlignerTrainConfig* c) {
    c->recipe = recipe_name(r);
    switch (r) {
        case Recipe::none:
            return;
        case Recipe::ngweta:
            // TrainingArguments(learning_rate=1e-5, per_device_train_batch_size=1,
            // gradient_accumulation_steps=16, weight_decay=0.01, warmup_steps=100,
            // lr_scheduler_type="cosine", eval_steps=save_steps=50,
            // load_best_model_at_end=True, greater_is_better=False); AdamW
            // betas are HF's defaults; --maxlen 1024 with the tokenizer's
            // right-side truncation; load_data.py: shuffle(seed=42), 70/15/15.
            c->template_name = "ngweta";
            c->warmup_fraction = 0;
            c->lr = 1e-5;
            c->batch_size = 1;
            c->grad_accum = 16;
            c->weight_decay = 0.01f;
            c->beta1 = 0.9f;
            c->beta2 = 0.999f;
            c->max_grad_norm = 1.0f;
            c->schedule = "cosine";
            c->warmup_steps = 100;
            c->seq_len = 1024;
            c->truncation = "right";
            c->eval_every = 50;
            c->checkpoint_every = 50;
            c->keep_best = true;
            c->eval_fraction = 0.15;
            c->test_fraction = 0.15;
            c->seed = 42;
            c->separate_phases = false;
            return;
        case Recipe::ji:
            // Ji et al. 2024 (Aligner), Table 7 / PKU's scripts: lr 2e-5,
            // cosine, warm-up ratio 0.03, AdamW (0.9, 0.95), no weight decay,
            // 3 epochs, 4 per device x 8 accumulation, max length 2048, seed
            // 42; the identity (Q-A-A) warm-up on 20% of the data is its own
            // training run before Q-A-C; all data is trained on.
            c->template_name = "ji";
            c->warmup_fraction = 0.2;
            c->separate_phases = true;
            c->lr = 2e-5;
            c->schedule = "cosine";
            c->warmup_ratio = 0.03;
            c->warmup_steps = -1;
            c->beta1 = 0.9f;
            c->beta2 = 0.95f;
            c->weight_decay = 0.0f;
            c->max_grad_norm = 1.0f;
            c->epochs = 3;
            c->batch_size = 4;
            c->grad_accum = 8;
            c->seq_len = 2048;
            c->truncation = "longest_first";
            c->eval_fraction = 0;
            c->test_fraction = 0;
            c->seed = 42;
            return;
    }
}

void apply_recipe(Recipe r, InspectorTrainConfig* c) {
    c->recipe = recipe_name(r);
    switch (r) {
        case Recipe::none:
            return;
        case Recipe::ngweta:
            // TrainingArguments(learning_rate=2e-5, per_device_train_batch_size=8,
            // num_train_epochs=40, weight_decay=0.01, evaluation_strategy=
            // save_strategy="epoch", load_best_model_at_end=True,
            // metric_for_best_model="accuracy"); linear schedule without
            // warm-up and AdamW (0.9, 0.999) are HF's defaults, as is seed
            // 42; "x [SEP] y" with BERT's 512 tokens; 80/10/10 split; the
            // label is the argmax, i.e. threshold 0.5.
            c->input = "joined";
            c->format.separator = " [SEP] ";
            c->format.max_tokens = 512;
            c->lr = 2e-5;
            c->batch_size = 8;
            c->grad_accum = 1;
            c->epochs = 40;
            c->weight_decay = 0.01f;
            c->beta1 = 0.9f;
            c->beta2 = 0.999f;
            c->max_grad_norm = 1.0f;
            c->schedule = "linear";
            c->warmup_ratio = 0;
            c->warmup_steps = -1;
            c->eval_every = 0;
            c->eval_each_epoch = true;
            c->keep_best = true;
            c->calibrate = false;
            c->eval_fraction = 0.1;
            c->test_fraction = 0.1;
            c->seed = 42;
            return;
        case Recipe::ji:
            throw UsageError("--recipe: Ji et al. 2024 train no inspector (their aligner corrects every answer); "
                             "use --recipe ngweta or none for 'train inspector', got 'ji'");
    }
}

}  // namespace aligners::train
