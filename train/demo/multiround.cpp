#include "train/demo/multiround.h"

#include "common/error.h"
#include "common/fs.h"
#include "common/progress.h"
#include "engine/model.h"
#include "infer/codec.h"
#include "infer/model_generator.h"
#include "train/demo/checkers.h"
#include "train/demo/scoring.h"
#include "train/records.h"
#include "train/text_util.h"

namespace aligners::demo {

// A stand-in answer that no question contains, to cut the rendered prompt at.
static const char* kAnswerMark = "\x01answer\x01";

std::string upstream_prompt(const train::AlignerTemplate& t, const std::string& question) {
    std::string full = train::render_prompt(t, question, kAnswerMark);
    return full.substr(0, full.find(kAnswerMark));
}

std::string upstream_stop(const train::AlignerTemplate& t) {
    std::string full = train::render_prompt(t, "q", kAnswerMark);
    std::string after = full.substr(full.find(kAnswerMark) + std::string(kAnswerMark).size());
    return train::trim(after);  // "[ALIGNED]", however the decoder spaces its token
}

std::vector<std::string> upstream_answers(const std::string& lm_dir, engine::Backend& backend,
                                          const train::AlignerTemplate& t, const std::vector<std::string>& questions,
                                          int max_new_tokens, int batch) {
    auto model = engine::Model::load(lm_dir, backend, false);
    auto codec = infer::load_codec(lm_dir);
    infer::SamplingOptions greedy;
    greedy.greedy = true;
    greedy.max_new_tokens = max_new_tokens;
    greedy.stop = {upstream_stop(t)};
    std::vector<std::string> out;
    Progress bar("upstream answers", int64_t(questions.size()), "answer");
    for (size_t i = 0; i < questions.size(); i += size_t(batch)) {
        std::vector<std::vector<int32_t>> prompts;
        for (size_t k = i; k < std::min(questions.size(), i + size_t(batch)); ++k) {
            std::vector<int32_t> ids;
            if (codec->bos_id() >= 0) ids.push_back(codec->bos_id());
            for (int32_t id : codec->encode(upstream_prompt(t, questions[k]))) ids.push_back(id);
            prompts.push_back(std::move(ids));
        }
        for (std::string& a : infer::generate_texts(*model, *codec, prompts, greedy, {})) out.push_back(train::trim(a));
        bar.update(int64_t(prompts.size()));
    }
    bar.finish();
    return out;
}

UpstreamScore score_upstream(const std::vector<std::string>& questions, const std::vector<std::string>& answers) {
    UpstreamScore s;
    for (size_t i = 0; i < answers.size(); ++i) {
        ++s.n;
        bool bad = false;
        for (int c = 0; c < kNumCriteria; ++c)
            if (!check_answer(c, answers[i])) {
                ++s.by_criterion[size_t(c)];
                bad = true;
            }
        s.misaligned += bad;
        s.off_topic += !keeps_subject(questions[i], answers[i]);
    }
    return s;
}

void write_upstream_answers(const std::string& path, const std::vector<std::string>& questions,
                            const std::vector<std::string>& answers) {
    std::string lines;
    for (size_t i = 0; i < answers.size(); ++i) {
        json::Value v = json::Value::object();
        v.set("question", questions[i]);
        v.set("answer", answers[i]);
        v.set("aligned", all_aligned(answers[i]));
        v.set("keeps_subject", keeps_subject(questions[i], answers[i]));
        json::Value problems = json::Value::array();
        for (const std::string& p : describe_problems(questions[i], answers[i])) problems.push_back(p);
        v.set("problems", std::move(problems));
        lines += json::dump(v) + "\n";
    }
    write_file_atomic(path, lines);
}

UpstreamScore read_upstream_score(const std::string& path) {
    std::vector<std::string> questions, answers;
    for (const std::string& line : read_jsonl_complete(path)) {
        json::Value v = json::parse(line);
        questions.push_back(json::get_string(v, "question", path));
        answers.push_back(json::get_string(v, "answer", path));
    }
    return score_upstream(questions, answers);
}

}  // namespace aligners::demo
