// Fuzz target: a chat template (untrusted text from a model directory)
// parsed and rendered with a small conversation. Properties: it renders or
// throws Error (never crashes, never recurses without bound, never runs or
// grows without bound: the interpreter's step, nesting and size limits).
#include <cstdint>
#include <string>

#include "common/error.h"
#include "tokenizer/jinja.h"

using namespace aligners;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    static const json::Value messages = json::parse(
        R"([{"role":"system","content":"Be brief."},{"role":"user","content":"Hi {{ x }}"},)"
        R"({"role":"assistant","content":"<think>\nok\n</think>\n\nHello","tool_calls":[{"function":{"name":"f","arguments":{"a":1}}}]},)"
        R"({"role":"user","content":"Bye"}])");
    try {
        jinja::Template t = jinja::Template::parse(text, "fuzz");
        jinja::Value ctx = jinja::Value::dict();
        ctx.set("messages", jinja::Value::from_json(messages));
        ctx.set("bos_token", jinja::Value("<s>"));
        ctx.set("eos_token", jinja::Value("</s>"));
        ctx.set("add_generation_prompt", jinja::Value(true));
        ctx.set("tools", jinja::Value::none());
        (void)t.render(ctx);
    } catch (const Error&) {
    }
    return 0;
}
