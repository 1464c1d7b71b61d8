// x86-64 with AVX2 + FMA (Haswell and later, Zen 1-3): 16 ymm registers.
#include "isa_schedules.h"

namespace qwenc {

IsaFamily x86_avx2_family() {
    CpuTiles t;  // the defaults are sized for 16 ymm registers
    t.vector = 8;
    return {"x86-avx2", t};
}

}  // namespace qwenc
