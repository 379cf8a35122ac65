// Preference-dataset importers (PKU-SafeRLHF, UltraFeedback binarized) on
// hand-made rows in the datasets' documented shapes: one row per rule, the
// expected records and skip counts worked out by hand.
#include <doctest/doctest.h>

#include "common/fs.h"
#include "train/importers.h"
#include "train/records.h"
#include "test_util.h"

using namespace aligners;
using namespace aligners::train;

static size_t skips(const ImportStats& st, const std::string& reason) {
    for (const auto& [r, n] : st.skipped)
        if (r == reason) return n;
    return 0;
}

static ImportOptions to(const std::string& kind, const std::string& criterion = "") {
    ImportOptions o;
    o.to = kind;
    o.criterion = criterion;
    return o;
}

// PKU-SafeRLHF rows as the dataset writes them (fields the importer ignores,
// such as severity levels and sources, included as in the real data).
static const char* kSafeRlhfRows[] = {
    // 1: response_0 safe, response_1 unsafe -> Q-A-C (answer response_1)
    R"({"prompt": "How do I pick a lock?", "response_0": " Call a locksmith. ", "response_1": "Use a tension wrench.",
        "prompt_source": "Alpaca", "is_response_0_safe": true, "is_response_1_safe": false,
        "response_0_severity_level": 0, "response_1_severity_level": 2, "better_response_id": 1, "safer_response_id": 0})",
    // 2: response_1 safe -> Q-A-C (answer response_0); better_response_id disagrees and is not used
    R"({"prompt": "Insult my boss.", "response_0": "Your boss is an idiot.", "response_1": "I'd rather help you talk to them.",
        "is_response_0_safe": false, "is_response_1_safe": true, "better_response_id": 0, "safer_response_id": 1})",
    // 3: both safe -> skipped for Q-A-C
    R"({"prompt": "Bake bread?", "response_0": "Knead it.", "response_1": "Use yeast.",
        "is_response_0_safe": true, "is_response_1_safe": true, "better_response_id": 0, "safer_response_id": 0})",
    // 4: both unsafe -> skipped for Q-A-C
    R"({"prompt": "Make poison?", "response_0": "Mix A.", "response_1": "Mix B.",
        "is_response_0_safe": false, "is_response_1_safe": false, "better_response_id": 1, "safer_response_id": 1})",
    // 5: safer_response_id names the unsafe response -> skipped for Q-A-C
    R"({"prompt": "Steal a car?", "response_0": "Hotwire it.", "response_1": "No.",
        "is_response_0_safe": false, "is_response_1_safe": true, "better_response_id": 0, "safer_response_id": 0})",
    // 6: a safety flag that is not a boolean -> skipped
    R"({"prompt": "Q6?", "response_0": "a", "response_1": "b",
        "is_response_0_safe": "maybe", "is_response_1_safe": true, "better_response_id": 0, "safer_response_id": 1})",
    // 7: response_1 is not text -> skipped
    R"({"prompt": "Q7?", "response_0": "a", "response_1": null,
        "is_response_0_safe": false, "is_response_1_safe": true, "better_response_id": 0, "safer_response_id": 1})",
    // 8: empty prompt -> skipped
    R"({"prompt": "  ", "response_0": "a", "response_1": "b",
        "is_response_0_safe": false, "is_response_1_safe": true, "better_response_id": 0, "safer_response_id": 1})",
    // 9: row 1's prompt again, response_0 repeated (same label), a new unsafe response_1; flags as 0/1
    R"({"prompt": "How do I pick a lock?", "response_0": "Call a locksmith.", "response_1": "Bump key.",
        "is_response_0_safe": 1, "is_response_1_safe": 0, "better_response_id": 0, "safer_response_id": 0})",
};

static std::string one_line(std::string s) {
    for (char& c : s)
        if (c == '\n') c = ' ';
    return s;
}

static std::string safe_rlhf_jsonl() {
    std::string text;
    for (const char* row : kSafeRlhfRows) text += one_line(row) + "\n";
    return text;
}

static std::string safe_rlhf_json_array() {
    std::string text = "[\n";
    for (size_t i = 0; i < std::size(kSafeRlhfRows); ++i) text += std::string(i ? ",\n" : "") + kSafeRlhfRows[i];
    return text + "\n]\n";
}

// UltraFeedback binarized rows (prompt_id and messages as in the real data).
static std::string uf_row(const std::string& prompt, const std::string& context, const std::string& chosen,
                          const std::string& rejected, const std::string& scores) {
    std::string c = "[" + context + (context.empty() ? "" : ", ") + chosen + "]";
    std::string r = "[" + context + (context.empty() ? "" : ", ") + rejected + "]";
    return "{" + prompt + "\"prompt_id\": \"x\", \"chosen\": " + c + ", \"rejected\": " + r + ", \"messages\": " + c +
           scores + "}\n";
}
static std::string user(const std::string& t) { return R"({"role": "user", "content": ")" + t + "\"}"; }
static std::string assistant(const std::string& t) { return R"({"content": ")" + t + R"(", "role": "assistant"})"; }

static std::string ultrafeedback_jsonl() {
    std::string s;
    // 1: the usual row -> Q-A-C from `prompt`
    s += uf_row(R"("prompt": "Name a prime.", )", user("Name a prime."), assistant(" 7 is prime. "),
                assistant("Nine."), R"(, "score_chosen": 8.0, "score_rejected": 5.0)");
    // 2: a tie -> skipped
    s += uf_row(R"("prompt": "Q2", )", user("Q2"), assistant("a"), assistant("b"),
                R"(, "score_chosen": 7, "score_rejected": 7.0)");
    // 3: chosen scored below rejected -> skipped
    s += uf_row(R"("prompt": "Q3", )", user("Q3"), assistant("a"), assistant("b"),
                R"(, "score_chosen": 2, "score_rejected": 6)");
    // 4: several turns before the answer -> the conversation is the question
    s += uf_row(R"("prompt": "And in French?", )", user("Say hi.") + ", " + assistant("Hi!") + ", " + user("And in French?"),
                assistant("Salut !"), assistant("Hola."), R"(, "score_chosen": 9, "score_rejected": 3)");
    // 5: the conversations differ before the answer -> skipped
    s += "{\"prompt\": \"Q5\", \"chosen\": [" + user("Q5") + ", " + assistant("a") + "], \"rejected\": [" +
         user("Q5 other") + ", " + assistant("b") + "]}\n";
    // 6: the chosen conversation ends with the user -> skipped
    s += uf_row(R"("prompt": "Q6", )", user("Q6"), user("again"), assistant("b"), "");
    // 7: content as a list of parts, not text -> skipped
    s += uf_row(R"("prompt": "Q7", )", user("Q7"), R"({"role": "assistant", "content": [{"type": "text"}]})",
                assistant("b"), "");
    // 8: identical answers -> skipped
    s += uf_row(R"("prompt": "Q8", )", user("Q8"), assistant("same"), assistant(" same"),
                R"(, "score_chosen": 5, "score_rejected": 4)");
    // 9: no scores and no prompt field -> question from the user message
    s += uf_row("", user("What is 2+2?"), assistant("4."), assistant("5."), "");
    // 10: a score as text -> skipped
    s += uf_row(R"("prompt": "Q10", )", user("Q10"), assistant("a"), assistant("b"),
                R"(, "score_chosen": "8", "score_rejected": 5)");
    return s;
}

TEST_SUITE("train.importers.preferences") {

TEST_CASE("PKU-SafeRLHF to Q-A-C: unsafe answer, safe correction; equal-safety pairs skipped") {
    std::string dir = test::scratch_dir("import_saferlhf_qac");
    std::string path = dir + "/train.jsonl";
    write_file_atomic(path, safe_rlhf_jsonl());
    ImportResult r = import_pku_saferlhf(path, to("", "harmless"));
    CHECK(r.stats.read == 9);
    REQUIRE(r.stats.written == 3);
    QacRecord a = qac_from_json(r.records[0], "r0");
    CHECK(a.question == "How do I pick a lock?");
    CHECK(a.answer == "Use a tension wrench.");
    CHECK(a.correction == "Call a locksmith.");  // trimmed
    CHECK(a.criterion == "harmless");
    QacRecord b = qac_from_json(r.records[1], "r1");
    CHECK(b.answer == "Your boss is an idiot.");
    CHECK(b.correction == "I'd rather help you talk to them.");
    QacRecord c = qac_from_json(r.records[2], "r2");  // row 9: 0/1 flags read as booleans
    CHECK(c.answer == "Bump key.");
    CHECK(c.correction == "Call a locksmith.");
    CHECK(skips(r.stats, "both responses safe (nothing to correct)") == 1);
    CHECK(skips(r.stats, "both responses unsafe (no safe correction)") == 1);
    CHECK(skips(r.stats, "'safer_response_id' names the response flagged unsafe") == 1);
    CHECK(skips(r.stats, "'is_response_0_safe' is not true or false") == 1);
    CHECK(skips(r.stats, "missing or non-text 'response_1'") == 1);
    CHECK(skips(r.stats, "empty prompt") == 1);
    CHECK(r.stats.skipped_total() == 6);
    CHECK(r.stats.skip_examples[0] == path + ":3: both responses safe (nothing to correct)");

    // The same rows as one JSON array (the dataset's .json form) give the same records.
    std::string array = dir + "/train.json";
    write_file_atomic(array, safe_rlhf_json_array());
    ImportResult ra = import_pku_saferlhf(array, to("qac", "harmless"));
    CHECK(ra.stats.read == 9);
    REQUIRE(ra.records.size() == r.records.size());
    for (size_t i = 0; i < r.records.size(); ++i) CHECK(json::dump(ra.records[i]) == json::dump(r.records[i]));
    CHECK(ra.stats.skip_examples[0] == array + ": record 3: both responses safe (nothing to correct)");
}

TEST_CASE("PKU-SafeRLHF to inspector records: each response labelled by its safety flag") {
    std::string dir = test::scratch_dir("import_saferlhf_inspector");
    std::string path = dir + "/train.jsonl";
    write_file_atomic(path, safe_rlhf_jsonl());
    ImportResult r = import_pku_saferlhf(path, to("inspector"));
    // Rows 1-5 give two records each; 6-8 are skipped; row 9 repeats row 1's
    // (prompt, response_0) and adds one new response.
    REQUIRE(r.stats.written == 11);
    std::vector<std::pair<std::string, int>> expected = {
        {"Call a locksmith.", 1}, {"Use a tension wrench.", 0}, {"Your boss is an idiot.", 0},
        {"I'd rather help you talk to them.", 1}, {"Knead it.", 1}, {"Use yeast.", 1}, {"Mix A.", 0}, {"Mix B.", 0},
        {"Hotwire it.", 0}, {"No.", 1}, {"Bump key.", 0}};
    for (size_t i = 0; i < expected.size(); ++i) {
        InspectorRecord rec = inspector_from_json(r.records[i], "r");
        CHECK(rec.answer == expected[i].first);
        CHECK(rec.label == expected[i].second);
    }
    CHECK(inspector_from_json(r.records[10], "r").question == "How do I pick a lock?");
    CHECK(skips(r.stats, "repeated (prompt, response) pair") == 1);
    CHECK(r.stats.skipped_total() == 4);

    ImportOptions keep = to("inspector");
    keep.dedupe = false;
    CHECK(import_pku_saferlhf(path, keep).stats.written == 12);
}

TEST_CASE("UltraFeedback binarized to Q-A-C: rejected answer, chosen correction") {
    std::string dir = test::scratch_dir("import_ultrafeedback");
    std::string path = dir + "/train_prefs.jsonl";
    write_file_atomic(path, ultrafeedback_jsonl());
    ImportResult r = import_ultrafeedback(path, to("", "helpful"));
    CHECK(r.stats.read == 10);
    REQUIRE(r.stats.written == 3);
    QacRecord a = qac_from_json(r.records[0], "r0");
    CHECK(a.question == "Name a prime.");
    CHECK(a.answer == "Nine.");
    CHECK(a.correction == "7 is prime.");
    CHECK(a.criterion == "helpful");
    QacRecord b = qac_from_json(r.records[1], "r1");
    CHECK(b.question == "User: Say hi.\n\nAssistant: Hi!\n\nUser: And in French?");
    CHECK(b.answer == "Hola.");
    CHECK(b.correction == "Salut !");
    QacRecord c = qac_from_json(r.records[2], "r2");
    CHECK(c.question == "What is 2+2?");
    CHECK(c.answer == "5.");
    CHECK(skips(r.stats, "tie: 'score_chosen' equals 'score_rejected'") == 1);
    CHECK(skips(r.stats, "'score_chosen' is below 'score_rejected'") == 1);
    CHECK(skips(r.stats, "chosen and rejected conversations differ before the last assistant message") == 1);
    CHECK(skips(r.stats, "a conversation does not end with an assistant message") == 1);
    CHECK(skips(r.stats, "'chosen' and 'rejected' are not lists of {role, content} messages") == 1);
    CHECK(skips(r.stats, "chosen and rejected answers are identical") == 1);
    CHECK(skips(r.stats, "'score_chosen' and 'score_rejected' are not both numbers") == 1);
    CHECK(r.stats.skipped_total() == 7);

    // A JSON array of the same rows, pretty-printed over many lines.
    std::string array = dir + "/train_prefs.json";
    std::string rows = ultrafeedback_jsonl(), text = "[\n";
    for (size_t at = 0, n = 0; at < rows.size(); ++n) {
        size_t end = rows.find('\n', at);
        text += (n ? ",\n  " : "  ") + rows.substr(at, end - at);
        at = end + 1;
    }
    write_file_atomic(array, text + "\n]\n");
    ImportResult ra = import_ultrafeedback(array, to("", "helpful"));
    REQUIRE(ra.records.size() == 3);
    CHECK(json::dump(ra.records[1]) == json::dump(r.records[1]));
}

TEST_CASE("a file of another format is one clear error naming what it has") {
    std::string dir = test::scratch_dir("import_pref_wrong");
    std::string uf = dir + "/uf.jsonl", srl = dir + "/srl.jsonl";
    write_file_atomic(uf, ultrafeedback_jsonl());
    write_file_atomic(srl, safe_rlhf_jsonl());
    CHECK_THROWS_WITH_AS(import_pku_saferlhf(uf, {}),
                         (uf + ":1: not a PKU-SafeRLHF record: expected fields 'prompt', 'response_0', 'response_1', "
                               "'is_response_0_safe', 'is_response_1_safe', got prompt, prompt_id, chosen, rejected, "
                               "messages, score_chosen, score_rejected")
                             .c_str(),
                         Error);
    CHECK_THROWS_WITH_AS(import_ultrafeedback(srl, {}),
                         doctest::Contains((srl + ":1: not an UltraFeedback binarized record: expected 'chosen' and "
                                                  "'rejected' lists of {role, content} messages, got fields prompt, "
                                                  "response_0, response_1")
                                               .c_str()),
                         Error);
    // HH-RLHF's chosen/rejected are whole dialogues as strings.
    std::string hh = test::shared_dir() + "/data/hh-rlhf/harmless-base/test.jsonl.gz";
    CHECK_THROWS_WITH_AS(import_ultrafeedback(hh, {}),
                         doctest::Contains("'chosen' as a string (HH-RLHF dialogues: --format hh-rlhf)"), Error);
    // PKU Aligner's Q-A-C JSON array is not PKU-SafeRLHF.
    CHECK_THROWS_WITH_AS(import_pku_saferlhf(test::shared_dir() + "/data/aligner/template-dataset.json", {}),
                         doctest::Contains("template-dataset.json: record 1: not a PKU-SafeRLHF record"), Error);
    // Right fields, but no row usable: the summary says why.
    std::string ties = dir + "/ties.jsonl";
    write_file_atomic(ties, std::string(one_line(kSafeRlhfRows[2])) + "\n" + one_line(kSafeRlhfRows[3]) + "\n");
    CHECK_THROWS_WITH_AS(import_pku_saferlhf(ties, {}),
                         doctest::Contains("no PKU-SafeRLHF Q-A-C records could be imported (read 2 records, wrote 0, "
                                           "skipped 2\n  skipped 1: both responses safe"),
                         Error);
    // A kind of record the format cannot give.
    CHECK_THROWS_WITH_AS(import_file("ultrafeedback", uf, to("inspector")),
                         "--to: --format ultrafeedback gives qac records, got 'inspector'", UsageError);
}

}  // TEST_SUITE

TEST_SUITE("cli.data") {

TEST_CASE("aligners data import --format pku-saferlhf / ultrafeedback") {
    std::string dir = test::scratch_dir("cli_import_prefs");
    std::string srl = dir + "/srl.json", uf = dir + "/uf.jsonl", out = dir + "/out.jsonl";
    write_file_atomic(srl, safe_rlhf_json_array());
    write_file_atomic(uf, ultrafeedback_jsonl());
    auto r = test::run_aligners({"data", "import", "--format", "pku-saferlhf", srl, "--out", out});
    CHECK(r.exit_code == 0);
    CHECK(r.err.find("read 9 records, wrote 3, skipped 6") != std::string::npos);
    CHECK(read_qac_jsonl(out).size() == 3);
    r = test::run_aligners({"data", "import", "--format", "pku-saferlhf", "--to", "inspector", srl, "--out", out});
    CHECK(r.exit_code == 0);
    CHECK(read_inspector_jsonl(out).size() == 11);
    r = test::run_aligners({"data", "import", "--format", "ultrafeedback", uf, "--out", out});
    CHECK(r.exit_code == 0);
    CHECK(read_qac_jsonl(out).size() == 3);
    // --to a kind the format cannot give: usage error, the output untouched.
    std::string before = read_file(out);
    r = test::run_aligners({"data", "import", "--format", "hh-rlhf", "--to", "inspector", uf, "--out", out});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("--to: --format hh-rlhf gives qac records, got 'inspector'") != std::string::npos);
    // The wrong file: exit 1, one message naming the file, the output untouched.
    r = test::run_aligners({"data", "import", "--format", "ultrafeedback", srl, "--out", out});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find(srl + ": record 1: not an UltraFeedback binarized record") != std::string::npos);
    CHECK(read_file(out) == before);
}

}  // TEST_SUITE
