// Schedule files (qwenc --schedule, written by qwenc tune): their tiles
// replace the family's defaults, and every malformed or mismatched file is
// an error naming the file.
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <string>

#include "json_input.h"
#include "schedule.h"
#include "schedule_file.h"
#include "json_mutations.h"

using namespace qwenc;

namespace {

const Halide::Target kAvx512("x86-64-linux-avx-avx2-avx512-avx512_skylake-f16c-fma-sse41");
const Halide::Target kAvx2("x86-64-linux-avx-avx2-f16c-fma-sse41");

std::string write_file(const std::string &name, const std::string &text) {
    const std::string path = std::string(P_tmpdir) + "/qwenc-test-" + name + ".json";
    std::ofstream(path) << text;
    return path;
}

// The error `read_schedule_file(path)` (then applying it to `target`) gives.
std::string error_of(const std::string &path, const Halide::Target &target = kAvx512) {
    try {
        const ScheduleFile f = read_schedule_file(path);
        tiles_for_target(target, &f);
    } catch (const InputError &e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("a schedule file's tiles replace the family's defaults, and only those") {
    const std::string path = write_file("tiles", R"({"qwenc_schedule": 1, "schedule": "x86-avx512",
        "tiles": {"parallel_rows": 128, "tokens": 4, "decode_halves": false}, "measured": {"ignored": true}})");
    const ScheduleFile f = read_schedule_file(path);
    const CpuTiles defaults = tiles_for_target(kAvx512), tuned = tiles_for_target(kAvx512, &f);
    REQUIRE(defaults.parallel_rows != 128);
    REQUIRE(defaults.tokens != 4);
    REQUIRE(defaults.decode_halves);
    CHECK(tuned.parallel_rows == 128);
    CHECK(tuned.tokens == 4);
    CHECK_FALSE(tuned.decode_halves);
    for (const TileField &field : tile_fields())
        if (f.tiles.count(field.name) == 0) CHECK(get_tile(tuned, field.name) == get_tile(defaults, field.name));
    CHECK(tuned.vector == defaults.vector);
}

TEST_CASE("what schedule_file_json writes reads back") {
    const std::map<std::string, int> tiles = {{"decode_vectors", 2}, {"rows", 8}, {"dot_token_vectors", 1}, {"dot_decode_vectors", 12},
                                              {"int8_tokens", 2}, {"int16_tokens", 3}};
    const std::string path = write_file("roundtrip", schedule_file_json("x86-avx2", tiles).dump());
    const ScheduleFile f = read_schedule_file(path);
    CHECK(f.schedule == "x86-avx2");
    CHECK(f.tiles == tiles);
    CHECK(tiles_for_target(kAvx2, &f).decode_vectors == 2);
    CHECK(tiles_for_target(kAvx2, &f).dot_decode_vectors == 12);
    CHECK(tiles_for_target(kAvx2, &f).int8_tokens == 2);
    CHECK(tiles_for_target(kAvx2, &f).int16_tokens == 3);
}

TEST_CASE("a schedule file for another family is refused, naming both") {
    const std::string path = write_file("family", R"({"qwenc_schedule": 1, "schedule": "x86-avx2", "tiles": {"rows": 2}})");
    const std::string e = error_of(path);
    CHECK(e.find(path) == 0);
    CHECK(e.find("x86-avx2") != std::string::npos);
    CHECK(e.find("x86-avx512") != std::string::npos);
    CHECK(error_of(path, kAvx2).empty());
}

TEST_CASE("malformed schedule files are refused with the file and the problem") {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"{\"qwenc_schedule\": 1, ", "invalid JSON"},
        {R"({"schedule": "x86-avx512", "tiles": {}})", "not a qwenc schedule file"},
        {R"({"qwenc_schedule": 2, "schedule": "x86-avx512", "tiles": {}})", "format 2 is not supported"},
        {R"({"qwenc_schedule": 1, "tiles": {}})", "\"schedule\" must name"},
        {R"({"qwenc_schedule": 1, "schedule": "x86-avx512", "tiles": [1]})", "\"tiles\" must be an object"},
        {R"({"qwenc_schedule": 1, "schedule": "x86-avx512", "tiles": {"vector": 8}})", "unknown tile 'vector'"},
        {R"({"qwenc_schedule": 1, "schedule": "x86-avx512", "tiles": {"rows": 0}})", "tile 'rows' must be in [1, 16]"},
        {R"({"qwenc_schedule": 1, "schedule": "x86-avx512", "tiles": {"rows": 2.5}})", "tile 'rows' must be an integer"},
    };
    int i = 0;
    for (const auto &[text, problem] : cases) {
        const std::string path = write_file("bad" + std::to_string(i++), text);
        const std::string e = error_of(path);
        INFO(text);
        CHECK(e.find(path + ": ") == 0);
        CHECK(e.find(problem) != std::string::npos);
    }
    CHECK(error_of("/nonexistent/schedule.json").find("/nonexistent/schedule.json") == 0);
}

TEST_CASE("a schedule file: every field given every wrong value") {
    // Every tile at its default, as qwenc tune writes them.
    std::map<std::string, int> tiles;
    for (const TileField &f : tile_fields()) tiles[f.name] = get_tile(CpuTiles{}, f.name);
    const nlohmann::json base = schedule_file_json("x86-avx512", tiles);
    REQUIRE(error_of(write_file("mutation-base", base.dump())).empty());
    test::Outcome n;
    test::for_each_field_mutation(base,
                                  [&](const nlohmann::json &j, const std::string &what) {
                                      const std::string path = write_file("mutation", j.dump());
                                      INFO(what);
                                      test::expect_loaded_or_refused(n, path, [&] {
                                          const ScheduleFile f = read_schedule_file(path);
                                          // What loads holds each tile in its range, as the file said.
                                          for (const auto &[name, value] : f.tiles) {
                                              const nlohmann::json &given = j["tiles"][name];
                                              CHECK((given.is_boolean() ? nlohmann::json(int(given.get<bool>())) : given) == value);
                                          }
                                          tiles_for_target(kAvx512, &f);
                                      });
                                  });
    CHECK(n.refused > 200);
}
