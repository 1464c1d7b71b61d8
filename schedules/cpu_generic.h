// A portable CPU schedule: matrix-vector / matrix-matrix products vectorized
// along the contiguous weight rows with per-lane partial sums, register
// tiles of rows x tokens, and parallel blocks of output rows. The tile
// sizes come from the target's vector width.
#pragma once
#include <initializer_list>

#include "schedule.h"

namespace qwenc {

struct CpuTiles {
    int vector = 8;        // f32 lanes per partial sum vector
    int rows = 4;          // output rows per register tile (prefill)
    // Decode (matrix-vector): output rows per register tile, and vectors of
    // partial sums per row. One row with several vectors reads the weights
    // as one sequential stream per thread, which the hardware prefetchers
    // follow best; several rows share each activation load instead.
    int decode_rows = 1;
    int decode_vectors = 4;
    // ...except for rows longer than this many inputs, which go in tiles of
    // long_rows rows x long_row_vectors vectors, which share each load of
    // the input: a long row's input leaves L1 beside the weight stream
    // (1.5B's down_proj, 8960 inputs). The same tiles serve bf16x2-dot and
    // int16-dot decode, whose inputs also take 2-4 bytes an input; not
    // int8-dot, whose 1-byte input stays in L1 and where tiles were slower
    // (figures: bench/HISTORY.md).
    int long_row_inputs = 4096;
    int long_rows = 8;
    int long_row_vectors = 2;
    // Decode on bf16 dot products: vectors of partial sums per row, or the
    // most below that divide the row. Each vdpbf16ps waits on its own load
    // of weights; with more independent sums, more of a row's loads are in
    // flight when memory is fast (16 streamed faster than 4 in an A/B and in
    // a C model of the loop: bench/HISTORY.md).
    int dot_decode_vectors = 16;
    // Decode on integer dot products (int8-dot, int16-dot): vectors of
    // partial sums per row (each vector takes 4 x `vector` int8 weights per
    // step, int16-dot's 2 x `vector`; 8 measured no faster for int16-dot).
    int int_dot_decode_vectors = 4;
    // Prefill on bf16 dot products: register tile of rows x vectors of
    // `vector` tokens.
    int dot_rows = 8;
    int dot_token_vectors = 2;
    // Batched steps on bf16 / bf16x2 dot products (Phase::Batch): a few
    // tokens, one per sequence, so the lanes run along the inputs as in
    // decode, in register tiles of batch_rows rows x batch_tokens tokens.
    // Each row tile goes through its rows in chunks of batch_chunk inputs,
    // making all the step's tokens chunk by chunk (the tile's sums wait in
    // memory between chunks), so every weight is streamed from memory once
    // per step and the stream runs on through the token passes instead of
    // pausing while a whole row tile is reused (0: whole rows). A software
    // prefetch runs batch_prefetch vectors ahead in each of the tile's rows
    // (0: none); int16-dot's batches prefetch as many steps of their group
    // sums (a vector of int8 weights a row) ahead. On Zen 4, 16 x 1 tiles
    // in chunks of 512 beat 8 x 2 over whole rows by 1.16-1.28x at 8
    // sequences (bench/HISTORY.md).
    int batch_rows = 16;
    int batch_tokens = 1;
    int batch_prefetch = 16;
    int batch_chunk = 512;
    // ...and int16-dot's (int8 weights), whose tiles widen each vector of
    // weights once for their tokens: on Zen 5, 8 x 2 beat 16 x 1 and 4 x 4
    // at 8 sequences (bench/HISTORY.md).
    int int_batch_rows = 8;
    int int_batch_tokens = 2;
    // ...in parallel tasks of up to this many rows (but at least 4 tasks per
    // product), and up to dot_task_rows_long for rows longer than
    // long_row_inputs. Sized when each task copied its tokens' inputs (fewer
    // tasks, fewer copies); with the inputs staged in blocks there are no
    // copies, and 128 or 512 rows measured no better.
    int dot_task_rows = 256;
    int dot_task_rows_long = 512;
    // Decode: the tasks of a product alternate between the two halves of
    // its rows, so that two threads taking turns each stream one contiguous
    // half. With consecutive tasks, each core's prefetchers ran past the end
    // of its task into the rows the other core was reading (faster this way
    // in a C model of the loop and in qwenc: bench/HISTORY.md).
    bool decode_halves = true;
    int tokens = 3;        // tokens per register tile (prefill)
    // ...for int8 weights with f32 activations: chosen by qwenc tune on Zen 4
    // when int8 rows were unpacked from int32 quads, which took registers of
    // their own (bench/HISTORY.md); now a row widens into one register, as
    // bf16's does, and AVX2 measured the same tiles as bf16's fastest.
    int int8_tokens = 3;
    // ...for int16-dot prefill (int8 weights, int16 activations), whose
    // tile holds int32 sums and shares each widened weight vector across
    // its tokens; 0: `tokens`.
    int int16_tokens = 0;
    int int16_prefill_tokens() const { return int16_tokens > 0 ? int16_tokens : tokens; }
    int parallel_rows = 64;  // output rows per parallel task
    // Attention: most vectors of value sums in registers at once
    // (a task's query heads x a slice of head_dim; see sum_v_slice in cpu_generic.cpp).
    // 12 of AVX2's 16 registers; AVX-512 and NEON have 32.
    int attention_accumulators = 12;
    // Decode attention: keys per parallel task (a kv head's group of query
    // heads over this many keys), and keys per block whose values a task's
    // passes over head_dim reuse from L1 (32 keys of 128 f32: 16 KB).
    int attention_decode_keys = 256;
    int attention_key_tile = 32;
    // 4-bit projections (schedules/cpu_quant4.cpp): vectors of outputs per
    // register tile in decode and in prefill, tokens per prefill tile, and
    // parallel tasks per product (each streams its share of the outputs'
    // words of every input row).
    int quant4_decode_vectors = 4;
    int quant4_vectors = 2;
    int quant4_tokens = 4;
    int quant4_tasks = 4;
    // Decode: stored rows whose words one pass takes side by side (GPTQ: 8
    // inputs a row; AWQ takes 4x as many rows, of one input each).
    int quant4_rows = 1;
    // Decode: most outputs whose sums one task keeps (in L2) per group.
    int quant4_chunk = 4096;
    // Decode of AWQ with int8-dot: qweight byte columns (two outputs each)
    // whose block sums one pass keeps in registers, and its quant4_chunk
    // (its block sums take 4 bytes an output: whole rows of 8960 outputs
    // stay in L2).
    int quant4_awq_columns = 32;
    int quant4_awq_chunk = 16384;
};

class CpuGenericSchedule : public Schedule {
public:
    explicit CpuGenericSchedule(CpuTiles tiles, const char *name = "cpu-generic",
                                Int8DotSigns int8_signs = Int8DotSigns::UnsignedBySigned,
                                void (*lowering_passes)(Halide::Pipeline &) = nullptr, bool int8_quad_dot = false)
        : t_(tiles), name_(name), int8_signs_(int8_signs), lowering_passes_(lowering_passes), int8_quad_dot_(int8_quad_dot) {}
    const char *name() const override { return name_; }
    void add_lowering_passes(Halide::Pipeline &p) const override {
        if (lowering_passes_) lowering_passes_(p);
    }
    Int8DotSigns int8_dot_signs() const override { return int8_signs_; }
    bool int8_quad_dot() const override { return int8_quad_dot_; }
    int int16_dot_lanes() const override { return t_.vector; }
    void embed(EmbedGraph &g, Phase phase) override;
    void qkv(QkvGraph &g, Phase phase) override;
    void attn_mlp(AttnMlpGraph &g, Phase phase) override;
    void attention(Attention &a, Phase phase) override;
    int attention_key_block(Phase phase) const override;
    void out_mlp(AttnMlpGraph &g, Phase phase) override;
    void head(HeadGraph &g, Phase phase) override;

protected:
    // root (decode): the Func whose parallel loop makes the product's rows
    // (see decode_tasks); undefined: the product's own.
    void linear(Linear &l, Phase phase, Halide::Func root = Halide::Func());
    // tokens_inner: the product stored with the tokens contiguous.
    void bf16_dot_linear(Linear &l, bool tokens_inner = false);
    void bf16_dot_decode(Linear &l, Halide::Func root);
    struct BatchTile {
        Halide::Func tile;  // one chunk of a tile of rows x tokens
        Halide::Var u;      // its lanes
        Halide::RVar rr;    // its update's loop over the chunk's vectors
    };
    BatchTile batch_tiles(Linear &l, Halide::RVar step, int lane_inputs, int rows, int tokens);
    void bf16_dot_batch(Linear &l);
    void int_dot_batch(Linear &l);
    static int int_dot_lane_inputs(const Linear::IntDot &q);
    static bool prefill_tokens_in_parallel(Phase phase);
    static void block_steps_outermost(Halide::Func g, const Linear::IntDot &q);
    static void groups_for_tile(const Linear::IntDot &q, const Halide::LoopLevel &at);
    void bf16x2_dot_decode(Linear &l, Halide::Func root);
    int dot_task_rows(int64_t out_dim, int64_t in_dim) const;
    void stage_bf16_inputs(std::initializer_list<const Linear *> linears, Phase phase);
    void int_dot_linear(Linear &l, Phase phase, Halide::Func root);
    void quant4_linear(Linear &l, Phase phase, Halide::Func root);
    void scaled_result(Linear &l);
    Halide::Var decode_tasks(Linear &l, int task, Halide::Func root);
    void sum_lanes(Linear &l, Halide::RVar lanes);
    Halide::Var decode_rows(Linear &l, Halide::RVar lanes, int task, Halide::Func root, bool long_rows);
    void init_prefill(Halide::Func y);
    void tile_prefill(Halide::Func y, int task, int rows, int tokens);
    void norm(RmsNorm &n, Phase phase);
    void attention_scores(Attention &a);
    void decode_attention(Attention &a);
    // A per-element stage: vectorized along `inner`, parallel over tokens in prefill.
    void elementwise(Halide::Func f, Halide::Var inner, Phase phase);
    CpuTiles t_;
    const char *name_;
    Int8DotSigns int8_signs_;
    void (*lowering_passes_)(Halide::Pipeline &);
    bool int8_quad_dot_;
};

}  // namespace qwenc
