// Decode candidates for qwenc tune, timed through the runtime: each is
// compiled into a real model object (the path `qwenc` takes), loaded by
// libqwenrt over the model's own mmapped weights, and run token by token.
// An in-memory JIT harness ranked decode tiles differently from the
// runtime on the same machine (see tune.h), so decode is timed this way.
#pragma once
#include <functional>
#include <string>

#include "file_io.h"
#include "cpu_generic.h"
#include "emit/emit_object.h"

namespace qwenc {

class RuntimeDecodeCandidates {
public:
    // `base`: how every candidate compiles (targets, weight dtype, maths);
    // each gets its own output and a schedule file with its tiles.
    RuntimeDecodeCandidates(const ModelConfig &config, std::string config_path, std::string weights_dir, EmitOptions base,
                            int threads, std::string schedule);
    ~RuntimeDecodeCandidates();  // removes the candidates' objects
    RuntimeDecodeCandidates(const RuntimeDecodeCandidates &) = delete;
    RuntimeDecodeCandidates &operator=(const RuntimeDecodeCandidates &) = delete;

    // Compiles and loads a candidate with these tiles; each call of the
    // result decodes one token (and returns 1).
    std::function<double()> make(const CpuTiles &tiles);

private:
    const ModelConfig &config_;
    std::string config_path_, weights_dir_;
    EmitOptions base_;
    int threads_;
    std::string schedule_;
    PrivateTempDir dir_;  // the candidates' objects
    int made_ = 0;
};

}  // namespace qwenc
