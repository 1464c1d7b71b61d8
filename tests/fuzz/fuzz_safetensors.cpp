// A safetensors file: header length, JSON header, tensor spans.
#include "fuzz_input.h"
#include "safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    return qwenc::fuzz::refuse_only_with_input_error([&] {
        const qwenc::SafetensorsFile f(qwenc::fuzz::as_file("model.safetensors", data, size));
        // Every accepted tensor must lie inside the file: touch its last byte.
        volatile uint8_t sink = 0;
        for (const auto &[name, t] : f.tensors())
            if (t.nbytes > 0) sink = sink + t.data[t.nbytes - 1];
    });
}
