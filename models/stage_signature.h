// The calling convention of every compiled stage, declared once: each
// argument's name, kind, element type, rank, and what the runtime binds to
// it. The lowering (compiler/lower/pipelines.cpp) orders its parameters by
// this and checks it made exactly these; the runtime checks each object's
// stage metadata against it at load and binds the arguments by walking it.
// Adding an argument to a stage is an edit here and to the Funcs that use it.
#pragma once
#include <string>
#include <vector>

#include "dtype.h"
#include "manifest.h"
#include "model_config.h"

namespace qwenc {

enum class ArgKind { InputBuffer, Scalar, OutputBuffer };

// How an argument's buffer holds its elements.
enum class ArgType {
    F32,
    I32,
    Matrix,       // a weight matrix in the layout of the object's weight dtype and the stage's math (matrix_layout)
    MatrixScale,  // f32 [out]: an int8 matrix's row scale
    KvCache,      // K or V in the object's kv_cache_dtype: f32, or bf16 / f16 bits as uint16
    // A 4-bit projection (models/quant4.h), in place, dims the reverse of
    // its safetensors shape: qweight and qzeros int32, scales f16 (as uint16 bits).
    Quant4Weight,
    Quant4Zeros,
    Quant4Scales,
};

// What the runtime gives the argument.
enum class ArgSource {
    Session,      // the session's own buffer or scalar of this name (tokens, x, q, the KV cache, pos0, outputs)
    LayerVector,  // the layer's tensor `tensor` (a suffix for layer_tensor_name), widened to f32 at load
    LayerMatrix,  // the layer's tensor `tensor`, in place in the mapped weights
    ModelVector,  // the model-level tensor `tensor`, widened to f32
    ModelMatrix,  // the model-level tensor `tensor`, in place
};

struct StageArg {
    std::string name;  // the pipeline's argument name
    ArgKind kind;
    ArgType type;
    int rank;  // 0 for a scalar
    ArgSource source;
    std::string tensor;  // for the weight sources; for a scale, its matrix's tensor
};

// The arguments of `stage` in the order of the compiled pipeline's argv:
// input buffers, then scalars, then outputs. With int8 weights each matrix
// is followed by its row scale (scale_arg_name; tensor weight_scale_name).
// With 4-bit layers each layer projection is its qweight, zeros and scales
// (qzeros_arg_name, qscales_arg_name; tensors as models/quant4.h names them).
std::vector<StageArg> stage_signature(Stage stage, const ModelConfig &c, DType weight_dtype);

// Whether a name Halide gave an argument is the declared `name`: Halide makes
// Func names unique within the compiling process by appending "$N" (a
// decode stage's output "x_out" may become "x_out$1").
bool is_arg_name(const std::string &halide_name, const std::string &name);

}  // namespace qwenc
