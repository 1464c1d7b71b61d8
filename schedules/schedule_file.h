// A schedule file: tile sizes for one ISA family's schedule, read by
// `qwenc --schedule FILE` over that family's defaults (see CpuTiles) and
// written by `qwenc tune`, which measures candidates on the host. JSON:
//   {"qwenc_schedule": 1, "schedule": "x86-avx512",
//    "tiles": {"decode_vectors": 4, "parallel_rows": 64, ...}, ...}
// Keys other than these three (what tune measured) are for people.
#pragma once
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cpu_generic.h"

namespace qwenc {

struct ScheduleFile {
    std::string path;                   // for error messages
    std::string schedule;               // the family's name, e.g. "x86-avx512"
    std::map<std::string, int> tiles;   // CpuTiles fields by name
};

// The CpuTiles fields a schedule file may set (the vector width is the
// ISA's and is not among them), with the range each accepts.
struct TileField {
    const char *name;
    int lo, hi;
};
const std::vector<TileField> &tile_fields();
int get_tile(const CpuTiles &t, const std::string &name);
// Throws std::invalid_argument naming the field for an unknown name or a
// value out of its range.
void set_tile(CpuTiles &t, const std::string &name, int value);
// `t` with each field of `set` set (as set_tile does).
CpuTiles with_tiles(CpuTiles t, const std::map<std::string, int> &set);

// Throws InputError ("FILE: problem") for a missing, malformed or
// inconsistent file.
ScheduleFile read_schedule_file(const std::string &path);
nlohmann::json schedule_file_json(const std::string &schedule, const std::map<std::string, int> &tiles);

}  // namespace qwenc
