#include "tokenizer/chat_template.h"

#include "common/fs.h"

namespace aligners {

namespace {

// tokenizer_config.json's special tokens, as transformers' special_tokens_map
// gives them to templates: strings (an AddedToken object's "content").
json::Value special_tokens_of(const json::Value& cfg) {
    json::Value out = json::Value::object();
    for (const char* key : {"bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"}) {
        const json::Value* v = cfg.find(key);
        if (!v) continue;
        if (v->is_string()) out.set(key, v->as_string());
        else if (v->is_object())
            if (const json::Value* c = v->find("content"); c && c->is_string()) out.set(key, c->as_string());
    }
    if (const json::Value* extra = cfg.find("additional_special_tokens"); extra && extra->is_array()) {
        json::Value list = json::Value::array();
        for (const auto& t : extra->as_array()) {
            if (t.is_string()) list.push_back(t.as_string());
            else if (t.is_object())
                if (const json::Value* c = t.find("content"); c && c->is_string()) list.push_back(c->as_string());
        }
        out.set("additional_special_tokens", list);
    }
    return out;
}

}  // namespace

std::optional<ChatTemplate> ChatTemplate::load(const std::string& model_dir) {
    std::string cfg_path = path_join(model_dir, "tokenizer_config.json");
    json::Value cfg = file_exists(cfg_path) ? json::parse_file(cfg_path) : json::Value::object();
    if (!cfg.is_object()) throw Error(cfg_path + ": expected a JSON object");
    std::string jinja_path = path_join(model_dir, "chat_template.jinja");
    if (file_exists(jinja_path)) return from_text(read_file(jinja_path), special_tokens_of(cfg), jinja_path);
    const json::Value* t = cfg.find("chat_template");
    if (t && t->is_string()) return from_text(t->as_string(), special_tokens_of(cfg), cfg_path + ": chat_template");
    if (t && t->is_array())
        for (const auto& named : t->as_array())
            if (named.is_object() && json::get_string(named, "name", cfg_path, "") == "default")
                return from_text(json::get_string(named, "template", cfg_path), special_tokens_of(cfg),
                                 cfg_path + ": chat_template 'default'");
    return std::nullopt;
}

ChatTemplate ChatTemplate::from_text(const std::string& text, const json::Value& special_tokens,
                                     const std::string& name) {
    ChatTemplate c;
    c.source_ = text;
    c.name_ = name;
    c.template_ = jinja::Template::parse(text, name);
    c.special_tokens_ = special_tokens.is_object() ? special_tokens : json::Value::object();
    return c;
}

std::string ChatTemplate::render(const json::Value& messages, bool add_generation_prompt,
                                 const json::Value& extra) const {
    if (!messages.is_array()) throw Error(name_ + ": messages must be a JSON array");
    jinja::Value ctx = jinja::Value::dict();
    for (const auto& [k, v] : special_tokens_.as_object()) ctx.set(k, jinja::Value::from_json(v));
    ctx.set("messages", jinja::Value::from_json(messages));
    ctx.set("tools", jinja::Value::none());
    ctx.set("documents", jinja::Value::none());
    ctx.set("add_generation_prompt", jinja::Value(add_generation_prompt));
    if (extra.is_object())
        for (const auto& [k, v] : extra.as_object()) ctx.set(k, jinja::Value::from_json(v));
    return template_.render(ctx);
}

std::string ChatTemplate::render_user_prompt(const std::string& user_text) const {
    json::Value msg = json::Value::object();
    msg.set("role", "user");
    msg.set("content", user_text);
    json::Value messages = json::Value::array();
    messages.push_back(msg);
    return render(messages, true);
}

}  // namespace aligners
