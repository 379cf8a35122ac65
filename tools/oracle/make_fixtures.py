#!/usr/bin/env python3
"""Builds the engine's conformance fixtures with PyTorch + transformers.

Optional: `make test` never runs this; it reads the committed results under
tests/fixtures/models/. Needs PyPI torch, transformers, safetensors (installed
on demand below). No model hub: every model is a tiny random-init model built
from a config here.

For each family it writes tests/fixtures/models/<name>/:
  config.json, model.safetensors       the HF model directory (save_pretrained)
  oracle.safetensors                   what PyTorch computed:
    input_ids (B,T) I32, lengths (B) I32, targets (B,T) I32 (shifted labels, -100 ignored)
    logits (B,T,V) (or (B,K) for classification), loss ()
    grad:<hf name>                     every parameter gradient of loss
    adamw:<hf name>                    parameters after 3 AdamW steps with clipping
    adamw_losses (3), adamw_grad_norms (3)
    greedy_prompt_<i> (n) I32, greedy_<i> (m) I32   greedy continuations
    greedy_rep_<i> (m) I32            greedy with repetition_penalty=1.3
    warp_in (V), warp_out (V), warp_history (n) I32   one logits vector through
                                      repetition penalty 1.2, temperature 0.7, top-k 20, top-p 0.8
  and oracle.json with the hyper-parameters used.

  python3 tools/oracle/make_fixtures.py [--out tests/fixtures/models] [--check-roundtrip DIR]

--check-roundtrip DIR --fixture FIXTURE_DIR [--expect-logits JSON]: loads an
HF directory written by `aligners` with transformers and compares its logits
on the fixture's batch with the fixture's (or, for a model aligners
fine-tuned, with the logits aligners wrote) — the save -> HF load check, done
once by hand.
"""
import argparse
import json
import os
import subprocess
import sys


def ensure(pkgs):
    try:
        import torch, transformers, safetensors  # noqa: F401
    except ImportError:
        subprocess.check_call([sys.executable, "-m", "pip", "install", "-q"] + pkgs)


ensure(["torch", "transformers", "safetensors"])
import torch  # noqa: E402
import transformers  # noqa: E402
from safetensors.torch import save_file  # noqa: E402

B, T, V = 2, 10, 96
LENGTHS = [10, 7]
PAD = 0
# eps 1e-6, not 1e-8: some gradients are exactly zero in exact arithmetic (the k
# projection bias: softmax ignores a constant added to every score), so both
# implementations see only rounding noise there, which Adam with a tiny eps
# turns into lr-sized, implementation-specific updates.
ADAMW = dict(lr=1e-3, betas=(0.9, 0.95), eps=1e-6, weight_decay=0.1)
CLIP = 0.5


def small(**kw):
    base = dict(vocab_size=V, hidden_size=32, intermediate_size=48, num_hidden_layers=2, num_attention_heads=4,
                num_key_value_heads=2, max_position_embeddings=64, pad_token_id=PAD, bos_token_id=1,
                eos_token_id=2, attention_dropout=0.0)
    base.update(kw)
    return base


def families():
    T_ = transformers
    return [
        ("gpt2", T_.GPT2LMHeadModel, T_.GPT2Config(vocab_size=V, n_embd=32, n_layer=2, n_head=4, n_positions=32,
                                                  resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, bos_token_id=1,
                                                  eos_token_id=2, pad_token_id=PAD)),
        ("llama_gqa", T_.LlamaForCausalLM, T_.LlamaConfig(**small(tie_word_embeddings=False))),
        ("llama3_rope", T_.LlamaForCausalLM, T_.LlamaConfig(**small(
            tie_word_embeddings=True, num_key_value_heads=4,
            rope_parameters={"rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0, "low_freq_factor": 1.0,
                             "high_freq_factor": 4.0, "original_max_position_embeddings": 16}))),
        ("mistral", T_.MistralForCausalLM, T_.MistralConfig(**small(num_key_value_heads=1, sliding_window=4,
                                                                    tie_word_embeddings=False))),
        ("qwen2", T_.Qwen2ForCausalLM, T_.Qwen2Config(**small(tie_word_embeddings=True))),
        ("qwen3", T_.Qwen3ForCausalLM, T_.Qwen3Config(**small(head_dim=16, tie_word_embeddings=False))),
        ("llama_seqcls", T_.LlamaForSequenceClassification, T_.LlamaConfig(**small(num_labels=2))),
        # layer_norm_eps 1e-3 (not BERT's 1e-12) is of the order of the
        # embeddings' variance at this init, so a wrong eps shows in the logits.
        ("bert_seqcls", T_.BertForSequenceClassification, T_.BertConfig(
            vocab_size=V, hidden_size=32, intermediate_size=48, num_hidden_layers=2, num_attention_heads=4,
            max_position_embeddings=64, type_vocab_size=2, layer_norm_eps=1e-3, hidden_dropout_prob=0.0,
            attention_probs_dropout_prob=0.0, num_labels=3, pad_token_id=PAD)),
        # GPT-NeoX: fused per-head [q k v], partial rotary (head_dim 16, 4 of
        # them rotated), exact-erf GELU, untied embed_out; parallel residual
        # (the default) and the sequential variant (gelu_new, half rotary).
        ("gpt_neox", T_.GPTNeoXForCausalLM, T_.GPTNeoXConfig(**neox(rotary_pct=0.25))),
        ("gpt_neox_seq", T_.GPTNeoXForCausalLM, T_.GPTNeoXConfig(**neox(
            use_parallel_residual=False, rotary_pct=0.5, hidden_act="gelu_new", rotary_emb_base=500.0))),
        ("gpt_neox_seqcls", T_.GPTNeoXForSequenceClassification, T_.GPTNeoXConfig(**neox(num_labels=2))),
        # Phi: one LayerNorm feeding attention and MLP, partial rotary (8 of
        # head_dim 16), grouped-query attention, gelu_new, lm_head bias.
        ("phi", T_.PhiForCausalLM, T_.PhiConfig(**small(num_attention_heads=2, num_key_value_heads=1,
                                                         partial_rotary_factor=0.5, resid_pdrop=0.0,
                                                         embd_pdrop=0.0))),
        ("phi_qkln", T_.PhiForCausalLM, T_.PhiConfig(**small(num_attention_heads=2, num_key_value_heads=2,
                                                              partial_rotary_factor=0.25, qk_layernorm=True,
                                                              tie_word_embeddings=True))),
        ("phi_seqcls", T_.PhiForSequenceClassification, T_.PhiConfig(**small(
            num_attention_heads=2, num_key_value_heads=2, partial_rotary_factor=0.25, num_labels=2))),
    ] + gemma_families()


def neox(**kw):
    base = dict(vocab_size=V, hidden_size=32, intermediate_size=48, num_hidden_layers=2, num_attention_heads=2,
                max_position_embeddings=64, pad_token_id=PAD, bos_token_id=1, eos_token_id=2, attention_dropout=0.0,
                hidden_dropout=0.0, tie_word_embeddings=False)
    base.update(kw)
    return base


# Families whose norms and biases are perturbed from their init (ones /
# zeros) before saving, so that swapping two LayerNorms, or dropping a bias,
# changes the logits and not only the gradients.
PERTURBED = ("gpt_neox", "phi")


# Gemma 2/3: initializer_range 0.2 and caps of ~1 put the attention scores and
# logits where tanh soft-capping bends them (at 0.02 they would be linear);
# windows of 4 and 3 are shorter than T = 10 and than prompt + 8 new tokens;
# query_pre_attn_scalar 24 != head_dim; norm weights are randomised (HF
# initialises them to 0, which would hide a missing 1 + w). Gemma 3's
# attn_logit_softcapping is set but transformers' Gemma3Attention ignores it:
# the fixture shows the engine ignores it too.
def gemma_families():
    T_ = transformers
    g = dict(vocab_size=V, hidden_size=32, intermediate_size=48, num_attention_heads=4, num_key_value_heads=2,
             head_dim=16, max_position_embeddings=64, pad_token_id=PAD, bos_token_id=1, eos_token_id=2,
             attention_dropout=0.0, initializer_range=0.2, query_pre_attn_scalar=24, rms_norm_eps=1e-6)
    g2 = dict(g, num_hidden_layers=2, sliding_window=4, attn_logit_softcapping=1.0, final_logit_softcapping=2.0,
              layer_types=["sliding_attention", "full_attention"])
    g3 = dict(g, num_hidden_layers=3, sliding_window=3, attn_logit_softcapping=1.5, final_logit_softcapping=3.0,
              layer_types=["sliding_attention", "full_attention", "sliding_attention"],
              rope_parameters={"sliding_attention": {"rope_type": "default", "rope_theta": 10000.0},
                               "full_attention": {"rope_type": "linear", "factor": 2.0, "rope_theta": 1000.0}})
    return [
        ("gemma2", T_.Gemma2ForCausalLM, T_.Gemma2Config(**g2)),
        ("gemma2_seqcls", T_.Gemma2ForSequenceClassification, T_.Gemma2Config(**dict(g2, num_labels=2))),
        ("gemma3", T_.Gemma3ForCausalLM, T_.Gemma3TextConfig(**g3)),
        ("gemma3_seqcls", T_.Gemma3TextForSequenceClassification, T_.Gemma3TextConfig(**dict(g3, num_labels=2))),
    ]


def randomise_norms(model, gen):
    with torch.no_grad():
        for n, p in model.named_parameters():
            if "norm" in n:
                p.copy_(torch.randn(p.shape, generator=gen) * 0.3)


def make_batch(gen):
    ids = torch.randint(3, V, (B, T), generator=gen)
    mask = torch.zeros(B, T, dtype=torch.long)
    for b, n in enumerate(LENGTHS):
        mask[b, :n] = 1
        ids[b, n:] = PAD
    labels = ids.clone()
    labels[mask == 0] = -100
    labels[1, :3] = -100  # an ignored prompt: only the rest counts
    targets = torch.full((B, T), -100, dtype=torch.long)
    targets[:, :-1] = labels[:, 1:]
    return ids, mask, labels, targets


def decay_groups(model):
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    return [{"params": decay, "weight_decay": ADAMW["weight_decay"]}, {"params": no_decay, "weight_decay": 0.0}]


def saved_name(cls, n):
    # transformers 5 names GPT-NeoX's output embedding lm_head in the module
    # and embed_out in the file (conversion_mapping.py): keep the file's name.
    return "embed_out.weight" if cls.__name__ == "GPTNeoXForCausalLM" and n == "lm_head.weight" else n


def run_family(name, cls, config, out_dir, seed):
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    config._attn_implementation = "eager"
    model = cls(config).float().eval()
    if name.startswith(PERTURBED):
        with torch.no_grad():
            for p in model.parameters():
                if p.dim() == 1:
                    p.add_(0.2 * torch.randn(p.shape, generator=gen))
    if name.startswith("gemma"):
        randomise_norms(model, torch.Generator().manual_seed(seed + 7))
    d = os.path.join(out_dir, name)
    os.makedirs(d, exist_ok=True)
    model.save_pretrained(d, safe_serialization=True)
    seqcls = "SequenceClassification" in cls.__name__
    ids, mask, labels, targets = make_batch(gen)
    rec = {"input_ids": ids.int(), "lengths": torch.tensor(LENGTHS, dtype=torch.int32)}
    extra = {}
    if name.startswith("bert"):
        # A sentence pair per row ([CLS] A [SEP] B [SEP]): segment 1 from token 4.
        tt = torch.zeros(B, T, dtype=torch.long)
        tt[:, 4:] = 1
        tt[mask == 0] = 0
        extra["token_type_ids"] = tt
        rec["token_types"] = tt.int()
    if seqcls:
        cls_labels = torch.tensor([1, 0]) if config.num_labels == 2 else torch.tensor([2, 0])
        out = model(input_ids=ids, attention_mask=mask, labels=cls_labels, **extra)
        rec["labels"] = cls_labels.int()
    else:
        out = model(input_ids=ids, attention_mask=mask, labels=labels)
        rec["targets"] = targets.int()
    rec["logits"] = out.logits.detach().float().contiguous()
    rec["loss"] = out.loss.detach().reshape(())
    out.loss.backward()
    for n, p in model.named_parameters():
        rec["grad:" + saved_name(cls, n)] = p.grad.detach().clone().contiguous()
    # 3 AdamW steps with global-norm clipping, same batch.
    opt = torch.optim.AdamW(decay_groups(model), lr=ADAMW["lr"], betas=ADAMW["betas"], eps=ADAMW["eps"])
    losses, norms = [], []
    for _ in range(3):
        opt.zero_grad()
        if seqcls:
            loss = model(input_ids=ids, attention_mask=mask, labels=cls_labels, **extra).loss
        else:
            loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        loss.backward()
        norms.append(float(torch.nn.utils.clip_grad_norm_(model.parameters(), CLIP)))
        losses.append(float(loss))
        opt.step()
    for n, p in model.named_parameters():
        rec["adamw:" + saved_name(cls, n)] = p.detach().clone().contiguous()
    rec["adamw_losses"] = torch.tensor(losses)
    rec["adamw_grad_norms"] = torch.tensor(norms)
    if not seqcls:
        # Greedy continuation of the ORIGINAL weights, each prompt alone.
        fresh = cls.from_pretrained(d).float().eval()
        prompts = [ids[0, :5], ids[1, :3]]
        for i, p in enumerate(prompts):
            g = fresh.generate(p[None], attention_mask=torch.ones(1, len(p), dtype=torch.long), do_sample=False,
                               max_new_tokens=8, eos_token_id=None, pad_token_id=PAD)
            rec[f"greedy_prompt_{i}"] = p.int().contiguous()
            rec[f"greedy_{i}"] = g[0, len(p):].int().contiguous()
            g = fresh.generate(p[None], attention_mask=torch.ones(1, len(p), dtype=torch.long), do_sample=False,
                               max_new_tokens=8, eos_token_id=None, pad_token_id=PAD, repetition_penalty=1.3)
            rec[f"greedy_rep_{i}"] = g[0, len(p):].int().contiguous()
        if name == "llama_gqa":
            from transformers.generation.logits_process import (LogitsProcessorList, RepetitionPenaltyLogitsProcessor,
                                                                TemperatureLogitsWarper, TopKLogitsWarper,
                                                                TopPLogitsWarper)
            hist = ids[0, :6]
            x = torch.randn(1, V, generator=gen) * 3
            procs = LogitsProcessorList([RepetitionPenaltyLogitsProcessor(1.2), TemperatureLogitsWarper(0.7),
                                         TopKLogitsWarper(20), TopPLogitsWarper(0.8)])
            y = procs(hist[None], x.clone())
            rec["warp_in"] = x[0].contiguous()
            rec["warp_out"] = y[0].contiguous()
            rec["warp_history"] = hist.int().contiguous()
    save_file(rec, os.path.join(d, "oracle.safetensors"))
    meta = {"family": name, "class": cls.__name__, "B": B, "T": T, "lengths": LENGTHS, "adamw": ADAMW, "clip": CLIP,
            "torch": torch.__version__, "transformers": transformers.__version__}
    with open(os.path.join(d, "oracle.json"), "w") as f:
        json.dump(meta, f, indent=2)
    print(f"{name}: loss {float(rec['loss']):.6f}, adamw losses {losses}, grad norms {norms}")


def check_roundtrip(directory, fixture_dir, expect_logits=None):
    from safetensors.torch import load_file
    cfg = transformers.AutoConfig.from_pretrained(directory)
    arch = getattr(transformers, cfg.architectures[0])
    model = arch.from_pretrained(directory).float().eval()
    rec = load_file(os.path.join(fixture_dir, "oracle.safetensors"))
    ids = rec["input_ids"].long()
    mask = torch.zeros_like(ids)
    for b, n in enumerate(rec["lengths"].tolist()):
        mask[b, :n] = 1
    extra = {"token_type_ids": rec["token_types"].long()} if "token_types" in rec else {}
    with torch.no_grad():
        logits = model(input_ids=ids, attention_mask=mask, **extra).logits
    ref = rec["logits"]
    if expect_logits:  # a fine-tuned model: compare with what aligners computed for the same batch
        with open(expect_logits) as f:
            ref = torch.tensor(json.load(f), dtype=torch.float32).reshape(logits.shape)
        if logits.dim() == 2:
            p, q = torch.softmax(logits, -1), torch.softmax(ref, -1)
            print(f"max |probability diff| = {(p - q).abs().max().item():.3g}; transformers probs {p.tolist()}")
    if logits.dim() == 3:
        for b, n in enumerate(rec["lengths"].tolist()):
            err = (logits[b, :n] - ref[b, :n]).abs().max().item()
            print(f"row {b}: max |logit diff| = {err:.3g}")
    else:
        print(f"max |logit diff| = {(logits - ref).abs().max().item():.3g}")


def main():
    ap = argparse.ArgumentParser()
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--out", default=os.path.join(here, "..", "..", "tests", "fixtures", "models"))
    ap.add_argument("--check-roundtrip", metavar="DIR")
    ap.add_argument("--fixture", metavar="DIR", help="fixture directory for --check-roundtrip")
    ap.add_argument("--only", metavar="NAME", help="build only this fixture family (e.g. bert_seqcls)")
    ap.add_argument("--expect-logits", metavar="JSON",
                    help="--check-roundtrip: compare with these logits (a flat JSON list aligners wrote for the "
                         "fixture's batch) instead of the fixture's, e.g. for a model aligners fine-tuned")
    a = ap.parse_args()
    torch.set_num_threads(1)
    if a.check_roundtrip:
        check_roundtrip(a.check_roundtrip, a.fixture, a.expect_logits)
        return
    for i, (name, cls, cfg) in enumerate(families()):
        if a.only and name != a.only:
            continue
        run_family(name, cls, cfg, os.path.abspath(a.out), 1000 + i)


if __name__ == "__main__":
    main()
