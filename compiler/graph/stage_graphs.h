// The Funcs of each compiled stage, as the algorithm defines them. Schedules
// (schedules/) receive these and decide loop order, tiling, vectorization and
// parallelism; they never change what is computed.
#pragma once
#include <Halide.h>

#include "graph/layers.h"

namespace qwenc {

// Batch: a batched step's stages (qkv_batch, out_mlp, head_batch). Their
// graphs are prefill's (any number of tokens, each at its own position);
// only schedules see Batch, and tile them for the few tokens a step holds,
// one per sequence in flight.
enum class Phase { Prefill, Decode, Batch };

struct EmbedGraph {
    Halide::Func out;  // x(h, t)
};

struct QkvGraph {
    RmsNorm norm;
    Linear q, k, v;
    HeadNorm q_norm, k_norm;  // defined with the qk_norm trait only
    RopeTables rope;
    Halide::Func q_out, k_out, v_out;  // outputs: q(d, h, t), k/v(d, t, g) into the cache
};

// attn_mlp; out_mlp is the same after attention (attn then undefined, its
// output read from an input), and attn_prefill / attn_decode are attn alone.
struct AttnMlpGraph {
    Attention attn;
    Linear o_proj;
    Halide::Func x_mid;  // x + attention
    RmsNorm norm;
    Linear gate, up;
    Halide::Func act;    // silu(gate) * up
    Linear down;
    Halide::Func out;    // x_mid + mlp: output x_out(h, t)
};

struct HeadGraph {
    RmsNorm norm;
    Linear logits;
    // The pipeline's output, logits(v, t): a copy of logits.result, so that
    // schedules may compute the product inside the output's loops.
    Halide::Func out;
};

}  // namespace qwenc
