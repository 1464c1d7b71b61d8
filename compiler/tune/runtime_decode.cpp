#include "tune/runtime_decode.h"

#include <stdexcept>
#include <unistd.h>
#include <vector>

#include "schedule_file.h"
#include "qwenrt.h"

namespace qwenc {

namespace {
constexpr int64_t kContext = 512;  // decode runs between token 4 and this, then starts over

// A loaded candidate: its model and one session.
struct Loaded {
    qwenrt_model *model = nullptr;
    qwenrt_session *session = nullptr;
    std::vector<float> logits;
    ~Loaded() {
        if (session) qwenrt_session_free(session);
        if (model) qwenrt_model_free(model);
    }
};

void check(bool ok, const std::string &what) {
    if (!ok) throw std::runtime_error("qwenc tune: " + what + ": " + qwenrt_last_error());
}
}  // namespace

RuntimeDecodeCandidates::RuntimeDecodeCandidates(const ModelConfig &config, std::string config_path, std::string weights_dir,
                                                 EmitOptions base, int threads, std::string schedule)
    : config_(config), config_path_(std::move(config_path)), weights_dir_(std::move(weights_dir)), base_(std::move(base)),
      threads_(threads), schedule_(std::move(schedule)),
      dir_("qwenc-tune") {}

RuntimeDecodeCandidates::~RuntimeDecodeCandidates() = default;

std::function<double()> RuntimeDecodeCandidates::make(const CpuTiles &tiles) {
    ScheduleFile file{"(qwenc tune candidate)", schedule_, {}};
    for (const TileField &f : tile_fields()) file.tiles[f.name] = get_tile(tiles, f.name);
    EmitOptions opts = base_;
    opts.output = dir_.path() + "/candidate" + std::to_string(made_++) + ".so";
    opts.schedule_file = file;
    opts.show_progress = false;
    emit_model_object(config_, config_path_, opts);

    auto l = std::make_shared<Loaded>();
    const qwenrt_load_options load{threads_, 0};
    l->model = qwenrt_model_load(opts.output.c_str(), weights_dir_.c_str(), &load);
    check(l->model != nullptr, "loading a candidate over " + weights_dir_);
    l->session = qwenrt_session_new(l->model, kContext);
    check(l->session != nullptr, "a session");
    const int64_t vocab = qwenrt_model_vocab_size(l->model);
    l->logits.resize(size_t(vocab));
    const int32_t prompt[4] = {1 % int32_t(vocab), 2 % int32_t(vocab), 3 % int32_t(vocab), 4 % int32_t(vocab)};
    check(qwenrt_session_eval(l->session, prompt, 4, l->logits.data(), 0) == 0, "a prompt");
    return [l, vocab] {
        const int64_t pos = qwenrt_session_position(l->session);
        if (pos >= kContext - 1) qwenrt_session_truncate(l->session, 4);
        const int32_t token = int32_t((pos * 7919) % vocab);
        check(qwenrt_session_eval(l->session, &token, 1, l->logits.data(), 0) == 0, "decoding");
        return 1.0;
    };
}

}  // namespace qwenc
