// The model families qwenc compiles. Each is one file,
// models/<family>/family.cpp, declaring the names config.json gives it and
// its own config rules: the fields only it has, the traits of ModelConfig
// they set, and what it refuses. The lowering, the stage signatures, the
// tensor list and the runtime read the traits, never a family's name, so a
// family built from existing traits is that one added file and a line in
// families.cpp; one whose layers compute something new also adds its trait
// and the Funcs for it (docs/architecture.md).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model_config.h"

namespace qwenc {

struct ModelFamily {
    const char *model_type;    // config.json's model_type
    const char *architecture;  // the transformers class its `architectures` names
    // head_dim when config.json gives none (0: hidden_size / num_attention_heads).
    int64_t default_head_dim;
    // Reads the family's own fields of `j` into `c` (after the shared ones),
    // refusing what the family does not support; `source` names the file.
    void (*read_config)(const nlohmann::json &j, const std::string &source, ModelConfig &c);
    // Adds the family's own fields to the canonical config, so that parsing
    // it back gives the same config (the manifest carries it).
    void (*write_canonical)(const ModelConfig &c, nlohmann::json &j);
};

const std::vector<const ModelFamily *> &model_families();
const ModelFamily *find_model_family(const std::string &model_type);  // null when not supported

// For the families' rules: an optional boolean field, or `fallback`.
bool config_bool(const nlohmann::json &j, const std::string &source, const char *field, bool fallback);

}  // namespace qwenc
