// Generation defaults of a model directory, as transformers reads them:
// generation_config.json's sampling fields and eos ids, plus config.json's
// eos id. Command-line flags override them.
#pragma once
#include <string>
#include <vector>

#include "generate/sampler.h"

namespace qwenc {

struct GenerationDefaults {
    SamplingParams sampling;           // do_sample false unless the file says otherwise
    std::vector<int32_t> eos_ids;
};

// Throws InputError for a malformed file; missing files give plain defaults.
GenerationDefaults read_generation_defaults(const std::string &model_dir);

}  // namespace qwenc
