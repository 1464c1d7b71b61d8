#include "dtype.h"

#include <cmath>

namespace qwenc {

const char *dtype_name(DType t) {
    switch (t) {
    case DType::F32: return "F32";
    case DType::F16: return "F16";
    case DType::BF16: return "BF16";
    case DType::I32: return "I32";
    case DType::I8: return "I8";
    }
    return "?";
}

const char *dtype_flag_name(DType t) {
    switch (t) {
    case DType::F32: return "f32";
    case DType::F16: return "f16";
    case DType::BF16: return "bf16";
    case DType::I32: return "i32";
    case DType::I8: return "int8";
    }
    return "?";
}

std::optional<DType> dtype_from_name(const std::string &name) {
    for (DType t : {DType::F32, DType::F16, DType::BF16, DType::I32, DType::I8})
        if (name == dtype_name(t)) return t;
    return std::nullopt;
}

std::optional<DType> dtype_from_flag(const std::string &name) {
    for (DType t : {DType::F32, DType::F16, DType::BF16, DType::I32, DType::I8})
        if (name == dtype_flag_name(t)) return t;
    if (name == "bfloat16") return DType::BF16;
    if (name == "float16") return DType::F16;
    if (name == "float32") return DType::F32;
    return std::nullopt;
}

WeightStorage weight_storage(DType t) {
    switch (t) {
    case DType::BF16: return {WeightStorage::UInt, 32, 2};
    case DType::F16: return {WeightStorage::UInt, 16, 1};
    case DType::F32: return {WeightStorage::Float, 32, 1};
    case DType::I32: return {WeightStorage::Int, 32, 1};
    case DType::I8: return {WeightStorage::Int, 8, 1};
    }
    return {WeightStorage::Float, 32, 1};
}

size_t dtype_size(DType t) {
    switch (t) {
    case DType::F32: return 4;
    case DType::I32: return 4;
    case DType::F16: return 2;
    case DType::BF16: return 2;
    case DType::I8: return 1;
    }
    return 0;
}

float f16_to_float(uint16_t h) {
    const uint32_t sign = (h >> 15) & 1, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
    float v;
    if (exp == 0) v = std::ldexp(float(mant), -24);
    else if (exp == 31) v = mant ? NAN : INFINITY;
    else v = std::ldexp(float(mant | 0x400), int(exp) - 25);
    return sign ? -v : v;
}

uint16_t float_to_f16(float f) {
    // Round to nearest even, portably (no _Float16 on every target).
    uint32_t u;
    std::memcpy(&u, &f, 4);
    const uint16_t sign = uint16_t((u >> 16) & 0x8000);
    const uint32_t abs = u & 0x7fffffffu;
    if (abs >= 0x7f800000u) return uint16_t(sign | 0x7c00 | (abs > 0x7f800000u ? 0x200 : 0));  // inf / nan
    if (abs >= 0x477ff000u) return uint16_t(sign | 0x7c00);                                      // overflows to inf
    if (abs < 0x38800000u) {                                                                     // subnormal or zero
        const float mag = std::ldexp(std::fabs(f), 24);  // in units of 2^-24
        return uint16_t(sign | uint16_t(std::nearbyint(mag)));
    }
    const uint32_t rounded = abs + 0xfffu + ((abs >> 13) & 1u);
    return uint16_t(sign | ((rounded - 0x38000000u) >> 13));
}

}  // namespace qwenc
