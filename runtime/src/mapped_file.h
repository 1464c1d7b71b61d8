// A read-only memory map of a whole file, unmapped on destruction.
//
// A mapped file truncated by someone else does not kill the process: the
// read past its new end (SIGBUS) gets zero pages instead, and check() then
// throws an error naming the file. Callers check after each use of the
// data (the runtime: after every evaluation) and discard what they computed.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace qwenc {

class MappedFile {
public:
    explicit MappedFile(const std::string &path);  // throws InputError
    ~MappedFile();
    MappedFile(const MappedFile &) = delete;
    MappedFile &operator=(const MappedFile &) = delete;

    const uint8_t *data() const { return data_; }
    size_t size() const { return size_; }
    const std::string &path() const { return path_; }
    // Throws InputError naming the file if it was cut short while mapped.
    void check() const;

private:
    std::string path_;
    const uint8_t *data_ = nullptr;
    size_t size_ = 0;
    int slot_ = -1;  // in the signal handler's table
};

}  // namespace qwenc
