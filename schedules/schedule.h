// A schedule decides how the stage graphs run on one family of CPUs. One
// implementation per ISA family; the lowering never changes for a new one.
#pragma once
#include <memory>
#include <string>

#include <Halide.h>

#include "graph/stage_graphs.h"
#include "mat_math.h"

namespace qwenc {

class Schedule {
public:
    virtual ~Schedule() = default;
    virtual const char *name() const = 0;
    // What the target's int8 dot product multiplies; the lowering enters
    // int8-dot's weights to match (see Int8DotSigns).
    virtual Int8DotSigns int8_dot_signs() const = 0;
    // Whether the target sums four byte products into each int32 lane in
    // one instruction that Halide selects (vpdpbusd: avx512_sapphirerapids).
    // 4-bit weights on int8 activations are then lowered as two such sums a
    // byte (its low nibble's, its high nibble's); else as one sum of both,
    // which x86's pmaddubsw pass (x86_maddubs.cpp) takes in pairs.
    virtual bool int8_quad_dot() const { return false; }
    // int16-dot's lanes per activation block (layers.cpp's int_dot_linear):
    // one vector of int32 sums, so that a block's lanes are one vector.
    virtual int int16_dot_lanes() const { return kInt16Lanes; }
    virtual void embed(EmbedGraph &g, Phase phase) = 0;
    virtual void qkv(QkvGraph &g, Phase phase) = 0;
    virtual void attn_mlp(AttnMlpGraph &g, Phase phase) = 0;
    virtual void attention(Attention &a, Phase phase) = 0;  // attn_prefill / attn_decode
    // The blocks of positions attention's keys come in (Attention::keys):
    // what the schedule stages them in, 1 where it reads the cache as it is.
    virtual int attention_key_block(Phase) const { return 1; }
    virtual void out_mlp(AttnMlpGraph &g, Phase phase) = 0;  // attn_mlp after attention
    virtual void head(HeadGraph &g, Phase phase) = 0;
    // Custom lowering passes for a stage's pipeline (instruction selection
    // Halide's front end cannot ask for); none by default.
    virtual void add_lowering_passes(Halide::Pipeline &) const {}
};

struct ScheduleFile;
struct CpuTiles;

// Picks the schedule for a Halide target (by architecture and features),
// with the tile sizes of a schedule file (see schedule_file.h) if given;
// a file for another family is an InputError.
std::unique_ptr<Schedule> schedule_for_target(const Halide::Target &target, const ScheduleFile *file = nullptr);
// The family's name ("x86-avx512", ...) and its tiles, file applied.
std::string schedule_name_for_target(const Halide::Target &target);
CpuTiles tiles_for_target(const Halide::Target &target, const ScheduleFile *file = nullptr);
// The target's family with exactly these tiles (qwenc tune's candidates).
std::unique_ptr<Schedule> schedule_with_tiles(const Halide::Target &target, const CpuTiles &tiles);
// Whether the target's schedule sums 4-bit x int8 products on fast code
// (IsaFamily::quant4_int8_dot), so that 4-bit decode takes int8-dot by default.
bool fast_quant4_int8_dot(const Halide::Target &target);

}  // namespace qwenc
