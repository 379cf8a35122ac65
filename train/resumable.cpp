#include "train/resumable.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/error.h"
#include "common/progress.h"

namespace aligners::train {

ResumableLog::ResumableLog(std::string path) : path_(std::move(path)) {
    if (file_exists(path_)) {
        std::string text = read_file(path_);
        size_t complete = text.rfind('\n');
        complete = complete == std::string::npos ? 0 : complete + 1;
        if (complete < text.size()) {
            // A torn last line: drop it so the next append starts a fresh line.
            if (::truncate(path_.c_str(), off_t(complete)) != 0)
                throw Error(path_ + ": cannot cut off a torn last line: " + std::strerror(errno));
            text.resize(complete);
        }
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
