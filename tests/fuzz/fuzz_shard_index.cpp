// model.safetensors.index.json, with one real shard beside it: the index
// names files, and each named tensor is looked up through it.
#include "checkpoint.h"
#include "fuzz_input.h"
#include "json_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const bool shard = [] {
        // One F32 tensor "a" of shape [2].
        const std::string header = R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}})";
        std::string bytes(8, '\0');
        for (int i = 0; i < 8; i++) bytes[size_t(i)] = char((header.size() >> (8 * i)) & 0xFF);
        bytes += header + std::string(8, '\0');
        qwenc::fuzz::as_file("model-00001-of-00001.safetensors", reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size());
        return true;
    }();
    (void)shard;
    return qwenc::fuzz::refuse_only_with_input_error([&] {
        const std::string path = qwenc::fuzz::as_file("model.safetensors.index.json", data, size);
        const qwenc::Checkpoint ck(qwenc::fuzz::work_dir());
        const nlohmann::json index = qwenc::read_json_file(path);
        for (auto it = index["weight_map"].begin(); it != index["weight_map"].end(); ++it) {
            try {
                ck.tensor(it.key(), "the fuzzer");
            } catch (const qwenc::InputError &) {  // a name the index lists but no file holds
            }
        }
    });
}
