// Chat templates rendered by our Jinja interpreter against transformers'
// renderings (tests/fixtures/chat_templates.jsonl, made by
// tools/oracle/make_chat_template_fixtures.py): the real Qwen3 and Llama 3
// templates from ../shared/tokenizers and hand-written templates exercising
// the Jinja features chat templates use. Byte-for-byte equality.
#include <doctest/doctest.h>

#include "common/fs.h"
#include "common/json.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/jinja.h"
#include "test_util.h"

using namespace aligners;

namespace {

std::string render_str(const std::string& tmpl, const jinja::Value& ctx = jinja::Value::dict()) {
    return jinja::Template::parse(tmpl, "t").render(ctx);
}

}  // namespace

TEST_SUITE("tokenizer.jinja") {

TEST_CASE("chat templates render exactly as transformers renders them") {
    std::vector<std::string> lines = read_lines(test::fixtures_dir() + "/chat_templates.jsonl");
    REQUIRE(lines.size() > 50);
    json::Value head = json::parse(lines[0]);
    const json::Value& conversations = head["conversations"];
    json::Value tools = head["tools"];
    size_t compared = 0, refused = 0;
    for (size_t i = 1; i < lines.size(); ++i) {
        if (lines[i].empty()) continue;
        json::Value c = json::parse(lines[i]);
        std::string conv = c["conversation"].as_string();
        bool gen = c["add_generation_prompt"].as_bool();
        std::optional<ChatTemplate> t;
        std::string label;
        if (const json::Value* dir = c.find("dir")) {
            label = dir->as_string();
            t = ChatTemplate::load(test::shared_dir() + "/tokenizers/" + dir->as_string());
        } else {
            label = c["template_name"].as_string();
            t = ChatTemplate::from_text(c["template"].as_string(), c["special_tokens"], label);
        }
        REQUIRE(t.has_value());
        json::Value extra = json::Value::object();
        if (const json::Value* e = c.find("extra")) extra = *e;
        if (c["tools"].as_bool()) extra.set("tools", tools);
        CAPTURE(label);
        CAPTURE(conv);
        CAPTURE(gen);
        if (const json::Value* err = c.find("error")) {
            CHECK_THROWS_WITH_AS(t->render(conversations[conv], gen, extra), doctest::Contains(doctest::String(err->as_string().c_str())),
                                 Error);
            ++refused;
            continue;
        }
        std::string got = t->render(conversations[conv], gen, extra);
        CHECK(got == c["expected"].as_string());
        ++compared;
    }
    CHECK(compared >= 70);
    CHECK(refused >= 4);
}

TEST_CASE("whitespace control, trim_blocks and lstrip_blocks by hand") {
    CHECK(render_str("a\n  {% if true %}\n  b\n  {% endif %}\nc") == "a\n  b\nc");
    CHECK(render_str("a  {%- if true -%}  b  {%- endif -%}  c") == "abc");
    CHECK(render_str("x {{ 'y' }} z") == "x y z");
    CHECK(render_str("x\n  {{- 'y' -}}\n  z") == "xyz");
    CHECK(render_str("a {# c #} b") == "a  b");
    CHECK(render_str("line\n") == "line");  // keep_trailing_newline off
    // String literals decode Python's escapes, as Jinja2 does.
    CHECK(render_str(R"({{ '\x41\u00e9\U0001F600\101\q' }})") == "A\u00e9\U0001F600A\\q");
    // json.dumps: DEL is escaped only with ensure_ascii; control characters always.
    CHECK(render_str("{{ '\x7f\x01' | tojson }}") == "\"\x7f\\u0001\"");
    CHECK(render_str("{{ '\x7f' | tojson(ensure_ascii=true) }}") == "\"\\u007f\"");
    CHECK(render_str("{% for i in [1,2] %}{{ i }}{% endfor %}\n\n") == "12");  // trailing newline dropped, then trim_blocks
    CHECK(render_str("  {%+ if true %}x{% endif %}") == "  x");  // '+' disables lstrip_blocks
}

TEST_CASE("errors name the template line and the construct") {
    CHECK_THROWS_WITH_AS(jinja::Template::parse("a\n{% if x %}b", "tpl"),
                         doctest::Contains("tpl:2: block not closed (expected 'elif' or 'else' or 'endif'"), Error);
    CHECK_THROWS_WITH_AS(jinja::Template::parse("{{ x | nosuch }}", "tpl").render(jinja::Value::dict()),
                         doctest::Contains("tpl:1: unsupported filter 'nosuch'"), Error);
    CHECK_THROWS_WITH_AS(jinja::Template::parse("\n\n{% include 'x' %}", "tpl"),
                         doctest::Contains("tpl:3: unsupported tag 'include'"), Error);
    CHECK_THROWS_WITH_AS(render_str("{{ a.b }}"), doctest::Contains("'b' of an undefined value"), Error);
    CHECK_THROWS_WITH_AS(render_str("{{ 1 + 'a' }}"),
                         doctest::Contains("unsupported operand types for +: 'int' and 'str'"), Error);
    CHECK_THROWS_WITH_AS(render_str("{{ raise_exception('no system role') }}"),
                         doctest::Contains("the chat template raised: no system role"), Error);
    CHECK_THROWS_WITH_AS(jinja::Template::parse("{{ 'abc }}", "tpl"), doctest::Contains("tpl:1"), Error);
    // Found by fuzz_jinja: integers that leave 64 bits are refused, not wrapped (UB).
    CHECK_THROWS_WITH_AS(render_str("{{ 9223372036854775807 + 1 }}"), doctest::Contains("integer overflow"), Error);
    CHECK_THROWS_WITH_AS(render_str("{{ -3074457345618258603 * 3 }}"), doctest::Contains("integer overflow"), Error);
    CHECK_THROWS_WITH_AS(render_str("{{ 2 ** 64 }}"), doctest::Contains("integer overflow"), Error);
    CHECK(render_str("{{ 2 ** 62 }} {{ (-2) ** 3 }} {{ 3 ** 0 }}") == "4611686018427387904 -8 1");
    CHECK(render_str("{{ range(-9223372036854775807, 9223372036854775807, 4611686018427387904) | list }}") ==
          "[-9223372036854775807, -4611686018427387903, 1, 4611686018427387905]");
    // A namespace cannot be made to contain itself (repr and tojson would never end).
    CHECK_THROWS_WITH_AS(render_str("{% set ns = namespace(a=1) %}{% set ns.me = [ns] %}{{ ns }}"),
                         doctest::Contains("would make the namespace contain itself"), Error);
    CHECK_THROWS_WITH_AS(render_str("{% set a = namespace() %}{% set b = namespace(x=a) %}{% set a.y = b %}"),
                         doctest::Contains("'a.y' would make the namespace contain itself"), Error);
    CHECK(render_str("{% set a = namespace(v=1) %}{% set b = namespace(x=a) %}{{ b.x.v }}") == "1");
    // Found by fuzz_jinja: a float literal past double's range threw std::out_of_range.
    CHECK(render_str("{{ 1e999 }} {{ -1e999 }}") == "inf -inf");
    CHECK_THROWS_WITH_AS(jinja::Template::parse("{% for m (in 7777700E6304763 namespace(74z9%}", "tpl"),
                         doctest::Contains("tpl:1"), Error);
    // Found by fuzz_jinja: invalid UTF-8 reached the code-point string methods.
    CHECK_THROWS_WITH_AS(jinja::Template::parse("a\n{{ '\xff\xff' | int }}", "tpl"),
                         doctest::Contains("tpl:2: not valid UTF-8 (byte 6)"), Error);
}

TEST_CASE("hostile templates are bounded: nesting, recursion, loops, memory") {
    std::string deep(5000, '(');
    CHECK_THROWS_WITH_AS(jinja::Template::parse("{{ " + deep + "1" + std::string(5000, ')') + " }}", "t"),
                         doctest::Contains("nested deeper than 200"), Error);
    std::string blocks;
    for (int i = 0; i < 500; ++i) blocks += "{% if true %}";
    CHECK_THROWS_WITH_AS(jinja::Template::parse(blocks, "t"), doctest::Contains("blocks nested deeper than 200"), Error);
    CHECK_THROWS_WITH_AS(render_str("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}"),
                         doctest::Contains("macro calls nested deeper than 100"), Error);
}

TEST_CASE("hostile templates are bounded: steps") {
    CHECK_THROWS_WITH_AS(
        render_str("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"),
        doctest::Contains("more than 2000000 steps"), Error);
}

TEST_CASE("hostile templates are bounded: text") {
    CHECK_THROWS_WITH_AS(render_str("{% set s = namespace(v='xxxxxxxx') %}{% for i in range(40) %}"
                                    "{% set s.v = s.v ~ s.v %}{% endfor %}"),
                         doctest::Contains("would build a string over"), Error);
    CHECK_THROWS_WITH_AS(render_str("{{ 'abc' * 100000000 }}"), doctest::Contains("would build a string over"), Error);
    // Rebuilding a large string in a loop is bounded by the total text a render may build.
    CHECK_THROWS_WITH_AS(render_str("{% for i in range(100000) %}{% set y = 'x' * 30000000 %}{% endfor %}"),
                         doctest::Contains("built more than 268435456 bytes of text"), Error);
    CHECK_THROWS_WITH_AS(render_str("{{ ('abcd' * 10000000) | replace('abcd', 'abcdefghij') }}"),
                         doctest::Contains("would build a string over"), Error);
}

TEST_CASE("a directory without a template has none; the template's BOS is in the text") {
    CHECK(!ChatTemplate::load(test::shared_dir() + "/tokenizers/mistral").has_value());
    std::optional<ChatTemplate> llama = ChatTemplate::load(test::shared_dir() + "/tokenizers/llama3");
    REQUIRE(llama.has_value());
    std::string p = llama->render_user_prompt("Hi");
    CHECK(p.rfind("<|begin_of_text|>", 0) == 0);
    CHECK(p == "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
               "<|start_header_id|>assistant<|end_header_id|>\n\n");  // transformers' apply_chat_template
}

}  // TEST_SUITE
