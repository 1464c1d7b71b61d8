// How a compiled stage multiplies activations by weight matrices. f32 keeps
// activations in f32 (exact to the reference); the dot-product modes round
// activations to the weights' element type so one instruction does several
// multiply-adds per lane: bf16-dot (vdpbf16ps, bf16 weights) and int8-dot
// (vpdpbusd, int8 weights; activations quantized per block of 32 inputs,
// as llama.cpp's Q8_0 does; with 4-bit weights, in decode, vpmaddubsw on
// the unpacked nibbles, see models/quant4.h). bf16x2-dot (decode only) runs on vdpbf16ps
// too, but splits each f32 activation into two bf16s, x = hi + lo with hi
// its bf16 rounding and lo the rounding of the rest: products of bf16s are
// exact in f32, so w.x = w.hi + w.lo loses only lo's rounding (2^-17 of x),
// as f32 as the f32 path in practice, for one load and two vdpbf16ps per
// 32 weights instead of f32's load, two shifts and two FMAs. int16-dot
// (int8 weights) quantizes activations per block of up to 256 inputs
// (int16_block) to int16 instead of int8: vpdpwssd (VNNI; vpmaddwd
// elsewhere) sums pairs of int8-widened-to-int16 weights times int16
// activations exactly in int32, over the whole block, then one conversion
// and one FMA by the block's scale. The activations keep 2^-15 of their
// block's largest value, so the logits stay within ~6e-4 of f32
// activations' (int8-dot: ~0.1); a vpmaddwd does 16 multiply-adds where an
// AVX2 FMA does 8, so it is AVX2's int8 prefill too.
#pragma once
#include <optional>
#include <string>

#include "dtype.h"

namespace qwenc {

enum class MatMath { F32, Bf16Dot, Int8Dot, Bf16x2Dot, Int16Dot };

// "f32", "bf16-dot", "int8-dot", "bf16x2-dot", "int16-dot": the command-line and manifest spelling.
const char *mat_math_name(MatMath m);
std::optional<MatMath> mat_math_from_name(const std::string &name);
// The weight dtype a dot-product mode needs (F32: any).
std::optional<DType> mat_math_weight_dtype(MatMath m);

// What the target's int8 dot-product instruction multiplies, which decides
// how int8-dot enters its weights (compiler/graph/layers.cpp): x86's
// vpdpbusd takes unsigned by signed bytes (the weights enter offset by
// 128); ARM's sdot signed by signed (the weights enter as they are).
enum class Int8DotSigns { UnsignedBySigned, SignedBySigned };

// int8-dot and int16-dot: activations share one f32 scale per block of this
// many inputs.
constexpr int kIntDotBlock = 32;
// int16-dot's lanes per block (vpdpwssd's 16 int32 lanes, two vpmaddwd on
// AVX2), each summing pairs; and its blocks: the most inputs up to 256 (a
// power of two, at least kIntDotBlock) that divide a row of `in_dim`.
constexpr int kInt16Lanes = 16;
constexpr int int16_block(int64_t in_dim) {
    int b = 256;
    while (b > kIntDotBlock && in_dim % b != 0) b /= 2;
    return b;
}

// The maths that never run prefill (a manifest refuses them there):
// bf16x2-dot does twice the work per weight of bf16-dot, which
// memory-bound decode hides and compute-bound prefill would not.
bool mat_math_decode_only(MatMath m);

// Whether batched steps in math `m` have tiles of their own (bf16-dot,
// bf16x2-dot and int16-dot: lanes along the inputs for the few tokens of a
// step). Every
// other batch math runs on prefill's tiles, so a batch stage whose prefill
// twin has its math is that very pipeline, and is compiled once.
bool mat_math_has_batch_tiles(MatMath m);

// What every matrix's input dimension must be a multiple of: int8-dot's
// and int16-dot's block; for the bf16 modes, one step of their AVX-512 schedules (16 lanes
// of pairs; they only go with AVX-512 targets); 1 for f32.
int mat_math_input_multiple(MatMath m);

}  // namespace qwenc
