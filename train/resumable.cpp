#include "train/resumable.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/error.h"
#include "common/progress.h"

namespace aligners::train {

ResumableLog::ResumableLog(std::string path, std::string trailer_key)
    : path_(std::move(path)), trailer_key_(std::move(trailer_key)) {
    // Resume only from a regular file: stdout, a pipe or a device is written
    // to, never read back (reading our own output pipe would wait forever).
    if (is_regular_file(path_)) {
        std::string text = read_file(path_);
        size_t complete = text.rfind('\n');
        complete = complete == std::string::npos ? 0 : complete + 1;
        if (complete < text.size()) {
            // A torn last line: drop it so the next append starts a fresh line.
            if (::truncate(path_.c_str(), off_t(complete)) != 0)
                throw Error(path_ + ": cannot cut off a torn last line: " + std::strerror(errno));
            text.resize(complete);
        }
        if (!trailer_key_.empty()) cut_trailer(text);
        size_t pos = 0, line_no = 0;
        while (pos < text.size()) {
            size_t end = text.find('\n', pos);
            std::string_view line(text.data() + pos, end - pos);
            pos = end + 1;
            ++line_no;
            if (line.empty()) continue;
            json::Value v;
            try {
                v = json::parse(line);
            } catch (const json::ParseError& e) {
                throw Error(path_ + ":" + std::to_string(line_no) + ": not valid JSON (" + json::jsonl_error(e) +
                            "); remove the file to start this stage again");
            }
            const json::Value* id = v.find("id");
            if (!id || !id->is_string())
                throw Error(path_ + ":" + std::to_string(line_no) + ": missing string field 'id'");
            ids_.insert(id->as_string());
            items_.push_back(std::move(v));
        }
    }
    out_ = std::make_unique<JsonlAppender>(path_);
}

// A finished run's last line (an object with `trailer_key_`) comes off
// before more work is appended; finish() writes a new one.
void ResumableLog::cut_trailer(std::string& text) {
    if (text.empty()) return;
    size_t start = text.rfind('\n', text.size() - 2);
    start = start == std::string::npos ? 0 : start + 1;
    json::Value last;
    try {
        last = json::parse(std::string_view(text).substr(start, text.size() - 1 - start));
    } catch (const json::ParseError&) {
        return;  // reported with its line number below
    }
    if (!last.is_object() || !last.find(trailer_key_)) return;
    if (::truncate(path_.c_str(), off_t(start)) != 0)
        throw Error(path_ + ": cannot remove the completion line to resume: " + std::strerror(errno));
    text.resize(start);
}

void ResumableLog::finish(const json::Value& trailer) {
    if (trailer_key_.empty() || !trailer.find(trailer_key_)) throw Error(path_ + ": internal: trailer without its key");
    out_->append_line(json::dump(trailer));
}

void ResumableLog::append(json::Value item) {
    const json::Value* id = item.find("id");
    if (!id || !id->is_string()) throw Error(path_ + ": internal: work item without a string id");
    if (!ids_.insert(id->as_string()).second) throw Error(path_ + ": internal: duplicate work item " + id->as_string());
    out_->append_line(json::dump(item));
    items_.push_back(std::move(item));
}

size_t run_resumable(ResumableLog& log, const std::vector<std::string>& ids, size_t batch_size,
                     const std::function<std::vector<json::Value>(const std::vector<size_t>&)>& work,
                     const std::string& label) {
    if (batch_size == 0) batch_size = 1;
    std::vector<size_t> todo;
    for (size_t i = 0; i < ids.size(); ++i)
        if (!log.done(ids[i])) todo.push_back(i);
    Progress bar(label, int64_t(ids.size()), "item");
    bar.update(int64_t(ids.size() - todo.size()), todo.size() < ids.size() ? "resumed" : "");
    for (size_t b = 0; b < todo.size(); b += batch_size) {
        std::vector<size_t> batch(todo.begin() + long(b), todo.begin() + long(std::min(todo.size(), b + batch_size)));
        std::vector<json::Value> results = work(batch);
        if (results.size() != batch.size())
            throw Error(label + ": internal: " + std::to_string(results.size()) + " results for a batch of " +
                        std::to_string(batch.size()));
        for (size_t k = 0; k < batch.size(); ++k) {
            results[k].set("id", ids[batch[k]]);
            log.append(std::move(results[k]));
        }
        bar.update(int64_t(batch.size()));
    }
    bar.finish();
    return todo.size();
}

}  // namespace aligners::train
