// tokenizer-vectors TOKENIZER_JSON TESTS_DIR (vector|chat) INDEX
// Checks one reference vector from shared/qwen2/tokenizer-tests: a string's
// token ids (and that decoding them gives the string back), or one chat
// case's rendered prompt and ids.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "json_input.h"
#include "text/chat_template.h"
#include "text/stream_decoder.h"
#include "text/tokenizer.h"

using namespace qwenc;

static std::string slurp(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

static std::string ids_str(const std::vector<int32_t> &ids) {
    std::string s;
    for (int32_t id : ids) s += (s.empty() ? "" : " ") + std::to_string(id);
    return s;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        std::fprintf(stderr, "usage: tokenizer-vectors TOKENIZER_JSON TESTS_DIR vector|chat INDEX\n");
        return 2;
    }
    const auto tok = Tokenizer::load(argv[1]);
    const std::string dir = argv[2], kind = argv[3];
    const size_t index = std::stoul(argv[4]);
    if (kind == "vector") {
        // Strings are separated by "\n__ggml_vocab_test__\n"; line i of .out holds string i's ids.
        const std::string inp = slurp(dir + "/qwen2-vocab-tests.inp"), sep = "\n__ggml_vocab_test__\n";
        std::vector<std::string> strings;
        for (size_t at = 0; at < inp.size();) {
            size_t next = inp.find(sep, at);
            if (next == std::string::npos) break;
            strings.push_back(inp.substr(at, next - at));
            at = next + sep.size();
        }
        std::istringstream out(slurp(dir + "/qwen2-vocab-tests.out"));
        std::string line;
        for (size_t i = 0; i <= index && std::getline(out, line); i++) {}
        if (index >= strings.size()) return std::fprintf(stderr, "no vector %zu\n", index), 1;
        while (!line.empty() && line[0] == ' ') line.erase(0, 1);
        const std::vector<int32_t> ids = tok->encode(strings[index]);
        StreamDecoder dec(*tok, false);
        std::string back;
        for (int32_t id : ids) back += dec.push(id);
        back += dec.flush();
        std::printf("input:    %s\nexpected: %s\ngot:      %s\n", strings[index].c_str(), line.c_str(), ids_str(ids).c_str());
        if (ids_str(ids) != line) return std::puts("FAIL: ids differ"), 1;
        if (back != strings[index]) return std::puts("FAIL: decode(encode(s)) != s"), 1;
        return std::puts("PASS"), 0;
    }
    const nlohmann::json cases = read_json_file(dir + "/chat-cases.json");
    if (kind == "cli") {
        // The qwenrun contract: --messages F --print-prompt prints the render
        // exactly; --tokenize prints the ids, space-separated.
        const char *qwenrun = std::getenv("QWENRUN"), *model_dir = std::getenv("QWENC_TEST_WEIGHTS");
        if (!qwenrun || !model_dir) return std::fprintf(stderr, "set QWENRUN and QWENC_TEST_WEIGHTS\n"), 2;
        const auto &c = cases.at(index);
        // --print-prompt always adds the generation prompt, so a case rendered
        // without one checks only --tokenize.
        const bool check_render = c["add_generation_prompt"].get<bool>();
        const std::string msgs = "cli_case_" + std::to_string(index) + ".json";
        std::ofstream(msgs) << c["messages"].dump();
        auto quote = [](const std::string &s) {
            std::string q = "'";
            for (char ch : s) q += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
            return q + "'";
        };
        auto run = [](const std::string &cmd) {
            std::string out;
            FILE *p = popen(cmd.c_str(), "r");
            char buf[4096];
            size_t n;
            while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
            return pclose(p) == 0 ? out : "<command failed: " + cmd + ">";
        };
        const std::string rendered =
            check_render ? run(quote(qwenrun) + " --weights " + quote(model_dir) + " --messages " + msgs + " --print-prompt")
                         : c["rendered"].get<std::string>();
        const std::string ids = run(quote(qwenrun) + " --weights " + quote(model_dir) + " --tokenize " + quote(c["rendered"].get<std::string>()));
        std::printf("print-prompt:\n%s\ntokenize: %s", rendered.c_str(), ids.c_str());
        if (rendered != c["rendered"].get<std::string>()) return std::puts("FAIL: --print-prompt differs"), 1;
        if (ids != ids_str(c["ids"].get<std::vector<int32_t>>()) + "\n") return std::puts("FAIL: --tokenize differs"), 1;
        return std::puts("PASS"), 0;
    }
    const auto &c = cases.at(index);
    std::vector<ChatMessage> msgs;
    for (const auto &m : c["messages"]) msgs.push_back({m["role"], m["content"]});
    const ChatTemplate tmpl = ChatTemplate::from_jinja(slurp(dir + "/Qwen2.5-Instruct.chat_template.jinja"), "template");
    const std::string rendered = tmpl.render(msgs, c["add_generation_prompt"].get<bool>());
    const std::vector<int32_t> ids = tok->encode(rendered);
    std::printf("rendered:\n%s\nids: %s\n", rendered.c_str(), ids_str(ids).c_str());
    if (rendered != c["rendered"].get<std::string>()) return std::puts("FAIL: render differs"), 1;
    if (ids != c["ids"].get<std::vector<int32_t>>()) return std::puts("FAIL: ids differ"), 1;
    return std::puts("PASS"), 0;
}
