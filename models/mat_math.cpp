#include "mat_math.h"

namespace qwenc {

const char *mat_math_name(MatMath m) {
    switch (m) {
    case MatMath::F32: return "f32";
    case MatMath::Bf16Dot: return "bf16-dot";
    case MatMath::Int8Dot: return "int8-dot";
    case MatMath::Bf16x2Dot: return "bf16x2-dot";
    case MatMath::Int16Dot: return "int16-dot";
    }
    return "?";
}

std::optional<MatMath> mat_math_from_name(const std::string &name) {
    for (MatMath m : {MatMath::F32, MatMath::Bf16Dot, MatMath::Int8Dot, MatMath::Bf16x2Dot, MatMath::Int16Dot})
        if (name == mat_math_name(m)) return m;
    return std::nullopt;
}

std::optional<DType> mat_math_weight_dtype(MatMath m) {
    switch (m) {
    case MatMath::Bf16Dot:
    case MatMath::Bf16x2Dot: return DType::BF16;
    case MatMath::Int8Dot:
    case MatMath::Int16Dot: return DType::I8;
    default: return std::nullopt;
    }
}

int mat_math_input_multiple(MatMath m) {
    switch (m) {
    case MatMath::Bf16Dot:
    case MatMath::Bf16x2Dot: return 32;
    case MatMath::Int8Dot:
    case MatMath::Int16Dot: return kIntDotBlock;
    case MatMath::F32: break;
    }
    return 1;
}

bool mat_math_decode_only(MatMath m) { return m == MatMath::Bf16x2Dot; }

bool mat_math_has_batch_tiles(MatMath m) { return m == MatMath::Bf16Dot || m == MatMath::Bf16x2Dot || m == MatMath::Int16Dot; }

}  // namespace qwenc
