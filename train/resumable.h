// Resumable work: an append-only JSON Lines file with one line per finished
// work item, each an object with a string "id". A restart reads the file,
// skips the ids already there and appends the rest, so a killed run loses at
// most the batch in flight. A torn last line (killed mid-write) is cut off
// when the file is opened. Only a regular file is read back: "-" (stdout), a
// pipe or a device is only written to, so such a run starts from scratch.
//
// With a `trailer_key`, a finished run ends the file with one more line, an
// object holding that key (finish()), so readers can tell a complete file
// from an interrupted one; a restart removes it before appending.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "common/fs.h"
#include "common/json.h"

namespace aligners::train {

class ResumableLog {
public:
    explicit ResumableLog(std::string path, std::string trailer_key = "");

    bool done(const std::string& id) const { return ids_.count(id) != 0; }
    // Finished items, in file order.
    const std::vector<json::Value>& items() const { return items_; }
    size_t size() const { return items_.size(); }
    const std::string& path() const { return path_; }

    // Appends one finished item (must hold a string "id" not yet present).
    void append(json::Value item);
    // Appends the completion line (an object holding the trailer key).
    void finish(const json::Value& trailer);

private:
    void cut_trailer(std::string& text);

    std::string path_, trailer_key_;
    std::vector<json::Value> items_;
    std::unordered_set<std::string> ids_;
    std::unique_ptr<JsonlAppender> out_;
};

// Runs `work` over the items of `ids` that `log` has not finished, in
// batches of `batch_size`, appending each batch's results (one JSON object
// per id, in order) as soon as the batch is done. Progress is shown under
// `label`. Returns the number of items processed by this call.
size_t run_resumable(ResumableLog& log, const std::vector<std::string>& ids, size_t batch_size,
                     const std::function<std::vector<json::Value>(const std::vector<size_t>& batch)>& work,
                     const std::string& label);

}  // namespace aligners::train
