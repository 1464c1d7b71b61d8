// The KV cache's element type (Manifest::kv_cache_dtype) in the graph: how
// the q/k/v stage rounds K and V into it and how attention widens them back.
// f32 passes through untouched; bf16 and f16 travel as their uint16 bits
// (Halide 14 widens a float16 with integer code either way, see
// f16_bits_to_f32, and bf16 widens with one shift).
#pragma once
#include <Halide.h>

#include "dtype.h"

namespace qwenc {

// The Halide type of the cache's buffers: Float(32) or UInt(16).
Halide::Type kv_cache_type(DType kv);

// An f32 value rounded to the cache's type, to nearest even as torch casts.
Halide::Expr kv_cache_store(const Halide::Expr &value, DType kv);

// The cache as f32, cache(d, p, g) widened where it is read (inlined); the
// cache itself when it is f32.
Halide::Func kv_cache_load(const Halide::ImageParam &cache, DType kv);

}  // namespace qwenc
