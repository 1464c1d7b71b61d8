// qwenc-reference-case RENDERS.json INDEX OUT_DIR: writes case INDEX of the
// reference renders (../shared/chat-templates/renders.json, made by Python's
// jinja2) as qwenrun takes it: OUT_DIR/messages.json, the conversation with
// its variables ({"messages", "tools", "add_generation_prompt", "bos_token",
// "eos_token"}), and OUT_DIR/expected, the exact render, unless the case
// expects an error. Prints the case's template file name and "render" or
// "error".
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

using nlohmann::ordered_json;

int main(int argc, char **argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: qwenc-reference-case RENDERS.json INDEX OUT_DIR\n");
        return 2;
    }
    std::ifstream in(argv[1]);
    std::stringstream text;
    text << in.rdbuf();
    const ordered_json all = ordered_json::parse(text.str());
    const ordered_json &c = all["cases"].at(std::stoul(argv[2]));
    ordered_json conversation;
    for (const auto &conv : all["conversations"])
        if (conv["name"] == c["conversation"]) conversation = conv;
    ordered_json vars = ordered_json::object();
    vars["messages"] = conversation["messages"];
    if (conversation.contains("tools")) vars["tools"] = conversation["tools"];
    vars["add_generation_prompt"] = c["add_generation_prompt"];
    vars["bos_token"] = all["variables"]["bos_token"];
    vars["eos_token"] = all["variables"]["eos_token"];
    const std::string dir = argv[3];
    std::ofstream(dir + "/messages.json") << vars.dump(1);
    if (c.contains("render")) std::ofstream(dir + "/expected", std::ios::binary) << c["render"].get<std::string>();
    std::printf("%s %s\n", c["template"].get<std::string>().c_str(), c.contains("render") ? "render" : "error");
    return 0;
}
