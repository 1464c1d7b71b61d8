// Reads a safetensors file in place: the header is parsed and checked
// (length within the file and within a sane limit, offsets inside the data
// area, sizes matching dtype x shape, no two tensors overlapping, element
// alignment), and each tensor is a view into the mapped file.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "dtype.h"
#include "mapped_file.h"

namespace qwenc {

struct TensorView {
    std::string name;
    DType dtype;
    std::vector<int64_t> shape;
    const uint8_t *data = nullptr;
    size_t nbytes = 0;
    std::string file;  // for error messages
};

class SafetensorsFile {
public:
    // Throws InputError naming the file and the problem.
    explicit SafetensorsFile(const std::string &path);
    const std::map<std::string, TensorView> &tensors() const { return tensors_; }
    const MappedFile &file() const { return *file_; }

    // Largest header accepted: far above any real checkpoint's (a few MB).
    static constexpr uint64_t kMaxHeaderBytes = 100u << 20;

private:
    std::unique_ptr<MappedFile> file_;
    std::map<std::string, TensorView> tensors_;
};

}  // namespace qwenc
