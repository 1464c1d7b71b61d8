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
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace qwenc {

enum class Quant4Format { None, Gptq, Awq };

struct Quant4 {
    Quant4Format format = Quant4Format::None;
    int64_t group_size = 128;  // inputs per group; -1 (GPTQ): one group per column
    bool sym = true;           // GPTQ: informational (the zeros are stored either way)
    int zero_offset = 0;       // added to each stored zero: 1 for classic GPTQ, else 0
    bool active() const { return format != Quant4Format::None; }
    // Inputs per group of a projection with `in` inputs.
    int64_t group(int64_t in) const { return group_size < 0 ? in : group_size; }
    bool operator==(const Quant4 &o) const {
        return format == o.format && group_size == o.group_size && sym == o.sym && zero_offset == o.zero_offset;
    }
};

// config.json's quantization_config for quant_method "gptq" or "awq":
// refuses (InputError naming `source` and the field) what qwenc cannot run.
Quant4 parse_quant4(const nlohmann::json &q, const std::string &source);
// The quantization_config that parse_quant4 reads back as `q`.
nlohmann::json quant4_config_json(const Quant4 &q);
const char *quant4_method(Quant4Format f);  // "gptq", "awq"
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
    std::vector<int64_t> qweight, qzeros, scales, g_idx;  // g_idx empty for AWQ
};
Quant4Shapes quant4_shapes(const Quant4 &q, int64_t in, int64_t out);

// Values per int32 word.
constexpr int kQuant4Pack = 8;
// AWQ: the nibble of a word that holds output o % 8 (AutoAWQ packs outputs
// in the order 0, 2, 4, 6, 1, 3, 5, 7).
constexpr int kAwqNibble[kQuant4Pack] = {0, 4, 1, 5, 2, 6, 3, 7};

}  // namespace qwenc
