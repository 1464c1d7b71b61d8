// 4-bit group-quantized linear layers as the checkpoints Qwen publishes
// store them (Qwen2.5-*-Instruct-GPTQ-Int4 and -AWQ), declared once: the
// config fields, the tensors beside each projection, their shapes, and
// where each 4-bit value sits in its int32 word. The lowering, the tensor
// list, the runtime's checks and the writer (quantize/quant4_writer.h) read
// these; the reference (tests/reference) dequantizes with its own code.
//
// Both formats: element (i, o) of a projection with `in` inputs and `out`
// outputs is w = scale(g, o) * (q(i, o) - zero(g, o)) for group g = i / G,
// q and zero unsigned 4-bit, scale f16 [groups, out].
// - GPTQ (AutoGPTQ's packing): qweight int32 [in / 8, out], word (i / 8, o)
//   holds q(i, o) in bits 4 * (i % 8); qzeros int32 [groups, out / 8], word
//   (g, o / 8) holds zero(g, o) in bits 4 * (o % 8); g_idx int32 [in], the
//   group of each input (i / G: desc_act reordering is refused). The classic
//   checkpoint format ("gptq", AutoGPTQ < 0.8 and Qwen's own) stores each
//   zero minus one; "gptq_v2" stores it as it is.
// - AWQ (AutoAWQ's GEMM packing): qweight int32 [in, out / 8], word
//   (i, o / 8) holds q(i, o) in nibble kAwqNibble[o % 8]; qzeros int32
//   [groups, out / 8], the same order; zeros stored as they are.
// - qwenc's own int4 (`qwenc quantize --bits 4`, quant_method "qwenc-int4",
//   "layout" "rows"): symmetric, for every matrix, the embedding and lm_head
//   included (as llama.cpp's Q4_0 files quantize theirs), stored by output
//   row as the dense formats are: qweight int32 [out, in / 8], word (o, i / 8)
//   holds q(i, o) in bits 4 * (i % 8); scales f16 [out, groups]; no qzeros,
//   every zero is kQuant4RowsZero (GPTQ's symmetric grid, as Q4_0's). A
//   decode task then reads one sequential run
//   of whole rows, as int8's do; GPTQ's [in / 8, out] words made it read
//   every group's rows side by side, a row apart, and it stalled on them
//   (bench/HISTORY.md). Files of the earlier qwenc-int4 (GPTQ's layout,
//   "checkpoint_format" "gptq_v2") are refused: quantize them again.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mat_math.h"

namespace qwenc {

enum class Quant4Format { None, Gptq, Awq, Rows };

struct Quant4 {
    Quant4Format format = Quant4Format::None;
    int64_t group_size = 128;  // inputs per group; -1 (GPTQ): one group per column
    bool sym = true;           // GPTQ: informational (the zeros are stored either way)
    int zero_offset = 0;       // added to each stored zero: 1 for classic GPTQ, else 0
    bool active() const { return format != Quant4Format::None; }
    // qwenc-int4 (its rows): the embedding and lm_head are 4-bit too.
    bool whole_model() const { return format == Quant4Format::Rows; }
    // Inputs per group of a projection with `in` inputs.
    int64_t group(int64_t in) const { return group_size < 0 ? in : group_size; }
    bool operator==(const Quant4 &o) const {
        return format == o.format && group_size == o.group_size && sym == o.sym && zero_offset == o.zero_offset;
    }
};

constexpr const char *kQwencInt4Method = "qwenc-int4";
constexpr const char *kQwencInt4Layout = "rows";  // its quantization_config's "layout"
constexpr int kQuant4RowsZero = 8;                 // the zero of every group of qwenc-int4's rows

// config.json's quantization_config for quant_method "gptq", "awq" or "qwenc-int4":
// refuses (InputError naming `source` and the field) what qwenc cannot run.
Quant4 parse_quant4(const nlohmann::json &q, const std::string &source);
// The quantization_config that parse_quant4 reads back as `q`.
nlohmann::json quant4_config_json(const Quant4 &q);
const char *quant4_method(const Quant4 &q);  // "gptq", "awq", "qwenc-int4"
// For messages: "4-bit gptq weights (group_size 128, checkpoint_format gptq)", or "unquantized layers".
std::string quant4_describe(const Quant4 &q);

// The tensors that replace a projection "X.weight" in a 4-bit checkpoint.
std::string quant4_qweight_name(const std::string &weight_name);  // X.qweight
std::string quant4_qzeros_name(const std::string &weight_name);   // X.qzeros
std::string quant4_scales_name(const std::string &weight_name);   // X.scales
std::string quant4_g_idx_name(const std::string &weight_name);    // X.g_idx (GPTQ only)

// Shapes as safetensors stores them, for a projection of `in` inputs and
// `out` outputs.
struct Quant4Shapes {
    std::vector<int64_t> qweight, qzeros, scales, g_idx;  // g_idx empty but for GPTQ, qzeros for rows
};
Quant4Shapes quant4_shapes(const Quant4 &q, int64_t in, int64_t out);

// Values per int32 word.
constexpr int kQuant4Pack = 8;
// AWQ: the nibble of a word that holds output o % 8 (AutoAWQ packs outputs
// in the order 0, 2, 4, 6, 1, 3, 5, 7).
constexpr int kAwqNibble[kQuant4Pack] = {0, 4, 1, 5, 2, 6, 3, 7};

// int8-dot with 4-bit weights (GPTQ's and AWQ's layouts in decode,
// qwenc-int4's rows in decode and prefill): the activations quantized to
// int8 per block of kIntDotBlock inputs, as llama.cpp's Q4_0 x Q8_0; each
// 4-bit value meets one int8 activation in a byte-wise dot product. Such a
// stage takes its 4-bit matrices' qweight as bytes, uint8 [4 * out, in / 8]
// (GPTQ), [out / 2, in] (AWQ) or [out, in / 2] (rows)
// (quant4_qweight_bytes), and its dense matrices (GPTQ's and AWQ's f16
// embedding and lm_head) in f32 (quant4_dense_math).
bool quant4_int8_dot(const Quant4 &q, MatMath m);
constexpr int kQuant4WordBytes = 4;
// Whether a stage of math `m` takes qweight as bytes rather than int32 words.
inline bool quant4_qweight_bytes(const Quant4 &q, MatMath m) { return quant4_int8_dot(q, m); }
// The maths a 4-bit model's stages take: f32, and int8-dot (GPTQ's layout: in decode only).
bool quant4_math_allowed(const Quant4 &q, MatMath m, bool decode);
// Whether int8-dot's blocks of kIntDotBlock inputs tile q's groups (whole
// columns: the dimensions' own multiples, checked with the dense maths').
inline bool quant4_groups_fit_int8_dot(const Quant4 &q) { return q.group_size < 0 || q.group_size % kIntDotBlock == 0; }
// The math a dense matrix of a 4-bit model computes in a stage of math `m`.
MatMath quant4_dense_math(const Quant4 &q, MatMath m);

}  // namespace qwenc
