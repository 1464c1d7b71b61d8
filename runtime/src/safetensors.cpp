#include "safetensors.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "json_input.h"

namespace qwenc {

using nlohmann::json;

SafetensorsFile::SafetensorsFile(const std::string &path) : file_(std::make_unique<MappedFile>(path)) {
    auto fail = [&](const std::string &msg) -> InputError { return InputError(path + ": " + msg); };
    const size_t size = file_->size();
    if (size < 8) throw fail("file is too short to be safetensors (" + std::to_string(size) + " bytes)");
    uint64_t header_len = 0;
    for (int i = 0; i < 8; i++) header_len |= uint64_t(file_->data()[i]) << (8 * i);
    if (header_len > kMaxHeaderBytes)
        throw fail("header length " + std::to_string(header_len) + " exceeds the " + std::to_string(kMaxHeaderBytes) +
                   "-byte limit (not a safetensors file, or corrupt)");
    if (header_len > size - 8)
        throw fail("header length " + std::to_string(header_len) + " runs past the end of the " + std::to_string(size) +
                   "-byte file (truncated?)");
    const uint8_t *data_start = file_->data() + 8 + header_len;
    const uint64_t data_size = size - 8 - header_len;

    const json header = parse_json_text({reinterpret_cast<const char *>(file_->data()) + 8, size_t(header_len)}, path + ": header");
    if (!header.is_object()) throw fail("header is not a JSON object");

    struct Span {
        uint64_t begin, end;
        const std::string *name;
    };
    std::vector<Span> spans;
    for (auto it = header.begin(); it != header.end(); ++it) {
        const std::string &name = it.key();
        if (name == "__metadata__") continue;
        const json &e = it.value();
        auto bad = [&](const std::string &msg) { return fail("tensor '" + name + "': " + msg); };
        if (!e.is_object() || !e.contains("dtype") || !e.contains("shape") || !e.contains("data_offsets"))
            throw bad("entry needs dtype, shape and data_offsets");
        if (!e["dtype"].is_string()) throw bad("dtype is not a string");
        auto dtype = dtype_from_name(e["dtype"].get<std::string>());
        if (!dtype) throw bad("unsupported dtype " + json_excerpt(e["dtype"]));
        TensorView v;
        v.name = name;
        v.dtype = *dtype;
        v.file = path;
        uint64_t numel = 1;
        if (!e["shape"].is_array()) throw bad("shape is not an array");
        for (const json &d : e["shape"]) {
            if (!d.is_number_unsigned()) throw bad("shape " + json_excerpt(e["shape"]) + " has a non-integer or negative entry");
            uint64_t x = d.get<uint64_t>();
            if (x != 0 && numel > (uint64_t(1) << 62) / x) throw bad("shape " + json_excerpt(e["shape"]) + " is too large");
            numel *= x;
            v.shape.push_back(int64_t(x));
        }
        const json &off = e["data_offsets"];
        if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
            throw bad("data_offsets must be two non-negative integers");
        const uint64_t begin = off[0].get<uint64_t>(), end = off[1].get<uint64_t>();
        if (begin > end) throw bad("data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) + "] are reversed");
        if (end > data_size)
            throw bad("data_offsets end " + std::to_string(end) + " is past the " + std::to_string(data_size) +
                      "-byte data area (file truncated or header lying)");
        const uint64_t want = numel * dtype_size(*dtype);
        if (end - begin != want)
            throw bad("holds " + std::to_string(end - begin) + " bytes but dtype " + dtype_name(*dtype) + " x shape " +
                      e["shape"].dump() + " needs " + std::to_string(want));
        if ((uintptr_t(data_start) + begin) % dtype_size(*dtype) != 0)
            throw bad("data is not aligned to its " + std::to_string(dtype_size(*dtype)) + "-byte elements");
        v.data = data_start + begin;
        v.nbytes = size_t(want);
        auto [pos, inserted] = tensors_.emplace(name, std::move(v));
        spans.push_back({begin, end, &pos->first});
    }
    std::sort(spans.begin(), spans.end(), [](const Span &a, const Span &b) { return a.begin < b.begin; });
    // Each non-empty tensor must start at or after the furthest end so far.
    const Span *furthest = nullptr;
    for (const Span &s : spans) {
        if (s.end == s.begin) continue;
        if (furthest && s.begin < furthest->end)
            throw fail("tensors '" + *furthest->name + "' and '" + *s.name + "' overlap");
        if (!furthest || s.end > furthest->end) furthest = &s;
    }
}

}  // namespace qwenc
