// Writes safetensors files (and a sharded index) the way transformers'
// save_pretrained lays them out: 8-byte little-endian header length, JSON
// header padded with spaces to 8-byte alignment, then tensor data.
#pragma once
#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "dtype.h"

namespace qwenc {

struct TensorToWrite {
    std::string name;
    DType dtype;
    std::vector<int64_t> shape;
    // Fills `count` float values starting at element `offset`; the writer
    // converts them to dtype. Called in chunks so a 3 GB model streams.
    std::function<void(float *out, int64_t offset, int64_t count)> fill;
    // I32 tensors (packed 4-bit words use all 32 bits, which a float cannot
    // hold exactly) are filled by this instead.
    std::function<void(int32_t *out, int64_t offset, int64_t count)> fill_i32 = {};

    int64_t numel() const;
    int64_t nbytes() const { return numel() * int64_t(dtype_size(dtype)); }
};

void write_safetensors(const std::string &path, const std::vector<TensorToWrite> &tensors,
                       const std::function<void(int64_t bytes_done)> &progress = {});

// The index of a sharded checkpoint, as save_pretrained names it.
constexpr const char *kIndexName = "model.safetensors.index.json";

// Splits tensors into `num_shards` files named model-0000i-of-0000n.safetensors
// in `dir` and writes model.safetensors.index.json beside them; with one shard
// writes a plain model.safetensors. Each file is written whole or not at all
// (AtomicFile); then the weights files of an earlier checkpoint in `dir` that
// these supersede are removed, so that a stale index or shard never wins.
void write_model_safetensors(const std::string &dir, const std::vector<TensorToWrite> &tensors, int num_shards,
                             const std::function<void(int64_t bytes_done, int64_t bytes_total)> &progress = {});

// Removes model.safetensors, the index and model-NNNNN-of-NNNNN.safetensors
// shards from `dir`, except the file names in `keep`.
void remove_superseded_weights(const std::string &dir, const std::set<std::string> &keep);

}  // namespace qwenc
