#include "common/line_reader.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/error.h"

namespace aligners {

static constexpr size_t kChunk = size_t(1) << 16;

static std::string mib(size_t n) {
    return n % (size_t(1) << 20) == 0 ? std::to_string(n >> 20) + " MiB" : std::to_string(n) + " bytes";
}

LineReader::LineReader(const std::string& path, size_t max_line) : path_(path), max_line_(max_line) {
    fd_ = open_input(path);
    // The first bytes decide: gzip or plain text.
    while (buf_.size() < 2 && fill()) {
    }
    eof_ = false;
    if (!is_gzip(buf_)) return;
    std::string where = is_stdio(path) ? "stdin" : path;
    if (is_regular_file(path)) {
        ::close(fd_);
        fd_ = -1;
        map_ = MappedFile(path);
        gz_ = std::make_unique<GunzipStream>(std::string_view(reinterpret_cast<const char*>(map_.data()), map_.size()),
                                             where);
    } else {
        compressed_ = std::move(buf_);
        char tmp[kChunk];
        for (;;) {
            ssize_t r = ::read(fd_, tmp, sizeof tmp);
            if (r < 0 && errno == EINTR) continue;
            if (r < 0) throw Error(where + ": read failed: " + std::strerror(errno));
            if (r == 0) break;
            compressed_.append(tmp, size_t(r));
        }
        ::close(fd_);
        fd_ = -1;
        gz_ = std::make_unique<GunzipStream>(compressed_, where);
    }
    buf_.clear();
}

LineReader::~LineReader() {
    if (fd_ >= 0) ::close(fd_);
}

bool LineReader::fill() {
    if (gz_) return gz_->read(buf_, kChunk);
    char tmp[kChunk];
    for (;;) {
        ssize_t r = ::read(fd_, tmp, sizeof tmp);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) throw Error(display_name(path_) + ": read failed: " + std::strerror(errno));
        buf_.append(tmp, size_t(r));
        return r > 0;
    }
}

bool LineReader::next(std::string& line) {
    for (;;) {
        size_t nl = buf_.find('\n', scanned_);
        if (nl != std::string::npos) {
            if (nl - pos_ > max_line_) break;
            line.assign(buf_, pos_, nl - pos_);
            pos_ = scanned_ = nl + 1;
            ++line_;
            return true;
        }
        scanned_ = buf_.size();
        if (buf_.size() - pos_ > max_line_) break;
        if (eof_) {
            if (pos_ == buf_.size()) return false;
            line.assign(buf_, pos_, std::string::npos);
            pos_ = scanned_ = buf_.size();
            ++line_;
            return true;
        }
        buf_.erase(0, pos_);  // keep only the unfinished line
        scanned_ -= pos_;
        pos_ = 0;
        if (!fill()) eof_ = true;
    }
    throw Error((is_stdio(path_) ? std::string("stdin") : path_) + ":" + std::to_string(line_ + 1) +
                ": line longer than " + mib(max_line_) + " (the limit for one record); is this the right file?");
}

}  // namespace aligners
