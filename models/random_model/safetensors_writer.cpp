#include "random_model/safetensors_writer.h"

#include <cmath>
#include <cstdio>
#include <cctype>
#include <cstring>
#include <filesystem>

#include "file_io.h"
#include "input_error.h"

#include <nlohmann/json.hpp>

namespace qwenc {

namespace fs = std::filesystem;

int64_t TensorToWrite::numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
}

void write_safetensors(const std::string &path, const std::vector<TensorToWrite> &tensors,
                       const std::function<void(int64_t)> &progress) {
    nlohmann::ordered_json header;
    header["__metadata__"] = {{"format", "pt"}};
    int64_t offset = 0;
    for (const TensorToWrite &t : tensors) {
        header[t.name] = {{"dtype", dtype_name(t.dtype)}, {"shape", t.shape}, {"data_offsets", {offset, offset + t.nbytes()}}};
        offset += t.nbytes();
    }
    std::string text = header.dump();
    while ((text.size() + 8) % 8 != 0) text.push_back(' ');

    AtomicFile out(path);
    uint64_t n = text.size();
    unsigned char len[8];
    for (int i = 0; i < 8; i++) len[i] = static_cast<unsigned char>(n >> (8 * i));
    out.write(len, 8);
    out.write(text);

    constexpr int64_t kChunk = 1 << 20;
    std::vector<float> vals(kChunk);
    std::vector<unsigned char> bytes(kChunk * 4);
    int64_t done = 0;
    for (const TensorToWrite &t : tensors) {
        const int64_t total = t.numel();
        for (int64_t at = 0; at < total; at += kChunk) {
            const int64_t cnt = std::min(kChunk, total - at);
            const size_t es = dtype_size(t.dtype);
            if (t.dtype == DType::I32) {
                if (!t.fill_i32) throw std::logic_error("I32 tensor '" + t.name + "' has no fill_i32");
                std::vector<int32_t> words(static_cast<size_t>(cnt));
                t.fill_i32(words.data(), at, cnt);
                out.write(words.data(), size_t(cnt) * es);
                done += cnt * int64_t(es);
                if (progress) progress(done);
                continue;
            }
            t.fill(vals.data(), at, cnt);
            for (int64_t i = 0; i < cnt; i++) {
                unsigned char *dst = bytes.data() + i * es;
                if (t.dtype == DType::F32) {
                    std::memcpy(dst, &vals[i], 4);
                } else if (t.dtype == DType::I8) {  // values are already integers in [-127, 127]
                    *dst = static_cast<unsigned char>(static_cast<int8_t>(std::lrint(vals[i])));
                } else {
                    uint16_t h = t.dtype == DType::BF16 ? float_to_bf16(vals[i]) : float_to_f16(vals[i]);
                    std::memcpy(dst, &h, 2);
                }
            }
            out.write(bytes.data(), size_t(cnt) * es);
            done += cnt * int64_t(es);
            if (progress) progress(done);
        }
    }
    out.commit();
}

void write_model_safetensors(const std::string &dir, const std::vector<TensorToWrite> &tensors, int num_shards,
                             const std::function<void(int64_t, int64_t)> &progress) {
    int64_t total = 0;
    for (const auto &t : tensors) total += t.nbytes();
    int64_t base = 0;
    auto shard_progress = [&](int64_t done) {
        if (progress) progress(base + done, total);
    };
    if (num_shards <= 1) {
        write_safetensors(dir + "/model.safetensors", tensors, shard_progress);
        remove_superseded_weights(dir, {"model.safetensors"});
        return;
    }
    // Greedy split by size, keeping checkpoint order, as save_pretrained does.
    std::vector<std::vector<TensorToWrite>> shards(1);
    const int64_t target = (total + num_shards - 1) / num_shards;
    int64_t in_shard = 0;
    for (const auto &t : tensors) {
        if (in_shard > 0 && in_shard + t.nbytes() > target && int(shards.size()) < num_shards) {
            shards.emplace_back();
            in_shard = 0;
        }
        shards.back().push_back(t);
        in_shard += t.nbytes();
    }
    nlohmann::ordered_json index;
    index["metadata"] = {{"total_size", total}};
    index["weight_map"] = nlohmann::ordered_json::object();
    const int n = int(shards.size());
    std::set<std::string> written{kIndexName};
    for (int s = 0; s < n; s++) {
        char name[64];
        std::snprintf(name, sizeof name, "model-%05d-of-%05d.safetensors", s + 1, n);
        write_safetensors(dir + "/" + name, shards[s], shard_progress);
        written.insert(name);
        for (const auto &t : shards[s]) {
            index["weight_map"][t.name] = name;
            base += t.nbytes();
        }
    }
    write_file_atomic(dir + "/" + kIndexName, index.dump(2) + "\n");
    remove_superseded_weights(dir, written);
}

namespace {
// "model-00001-of-00003.safetensors", as the writer above names shards.
bool is_shard_name(const std::string &name) {
    const std::string shape = "model-#####-of-#####.safetensors";
    if (name.size() != shape.size()) return false;
    for (size_t i = 0; i < shape.size(); i++)
        if (shape[i] == '#' ? !std::isdigit(static_cast<unsigned char>(name[i])) : name[i] != shape[i]) return false;
    return true;
}
}  // namespace

void remove_superseded_weights(const std::string &dir, const std::set<std::string> &keep) {
    // The index goes first: while it is there, it is what a loader follows.
    for (const char *name : {kIndexName, "model.safetensors"}) {
        if (keep.count(name)) continue;
        std::error_code ec;
        if (!fs::remove(dir + "/" + name, ec) && ec) throw InputError(dir + "/" + name + ": cannot remove the superseded file: " + ec.message());
    }
    std::error_code ec;
    for (const auto &entry : fs::directory_iterator(dir, ec)) {
        const std::string name = entry.path().filename().string();
        if (is_shard_name(name) && !keep.count(name) && !fs::remove(entry.path(), ec) && ec)
            throw InputError(entry.path().string() + ": cannot remove the superseded shard: " + ec.message());
    }
}

}  // namespace qwenc
