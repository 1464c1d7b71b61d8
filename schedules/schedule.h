// A schedule decides how the stage graphs run on one family of CPUs. One
// implementation per ISA family; the lowering never changes for a new one.
#pragma once
#include <memory>

#include <Halide.h>

#include "../compiler/lower/stage_graphs.h"

namespace qwenc {

class Schedule {
public:
    virtual ~Schedule() = default;
    virtual const char *name() const = 0;
    virtual void embed(EmbedGraph &g, Phase phase) = 0;
    virtual void qkv(QkvGraph &g, Phase phase) = 0;
    virtual void attn_mlp(AttnMlpGraph &g, Phase phase) = 0;
    virtual void head(HeadGraph &g, Phase phase) = 0;
};

// Picks the schedule for a Halide target (by architecture and features).
std::unique_ptr<Schedule> schedule_for_target(const Halide::Target &target);

}  // namespace qwenc
