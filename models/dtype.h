// Element types of weight tensors as safetensors names them, and the
// conversions between them that the generator, runtime and tests share.
#pragma once
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>

namespace qwenc {

enum class DType { F32, F16, BF16, I32, I8 };

// Safetensors spelling ("F32", "F16", "BF16", "I32", "I8").
const char *dtype_name(DType t);
std::optional<DType> dtype_from_name(const std::string &name);
// Lower-case spelling used on the command line and in the manifest ("bf16").
const char *dtype_flag_name(DType t);
std::optional<DType> dtype_from_flag(const std::string &name);
size_t dtype_size(DType t);

// How compiled pipelines receive a weight matrix of a dtype. bf16 travels
// as pairs of elements packed in uint32 words, dims (in / 2, out): one AND
// and one shift widen a vector of them to f32, where unpacking single
// uint16 elements costs a shuffle each. int8 travels as it is: a vector of
// its elements widens to f32 in two instructions (vpmovsxbd from memory,
// vcvtdq2ps), half what int32 quads unpacked by shifts took
// (bench/HISTORY.md). f16 travels as its uint16 bits, which the pipelines
// widen with integer and f32 arithmetic (Halide 14 widens a float16 with a
// dozen integer compares and blends per vector, not F16C's vcvtph2ps: an
// f16 lm_head then streamed at 7 GB/s); f32 as it is.
struct WeightStorage {
    enum Code { Int, UInt, Float } code;
    int bits;
    int pack;  // elements per word along the input dimension
};
WeightStorage weight_storage(DType t);

inline float bf16_to_float(uint16_t b) {
    uint32_t u = uint32_t(b) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}

// Round to nearest even, as torch does when casting float32 to bfloat16.
inline uint16_t float_to_bf16(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return uint16_t((u >> 16) | 0x40);  // NaN stays NaN
    u += 0x7fffu + ((u >> 16) & 1u);
    return uint16_t(u >> 16);
}

float f16_to_float(uint16_t h);
uint16_t float_to_f16(float f);

}  // namespace qwenc
