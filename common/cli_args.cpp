#include "cli_args.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

namespace qwenc {

CliArgs::CliArgs(int argc, char **argv, const std::set<std::string> &valued, const std::set<std::string> &switches) {
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        if (a.size() < 2 || a[0] != '-' || a == "--") {
            positionals_.push_back(a);
            continue;
        }
        if (a == "-h") a = "--help";
        if (a == "-o") a = "--output";
        if (a.rfind("--", 0) != 0) throw UsageError("unknown option '" + a + "' (see --help)");
        std::string name = a.substr(2), value;
        bool inline_value = false;
        if (auto eq = name.find('='); eq != std::string::npos) {
            value = name.substr(eq + 1);
            name = name.substr(0, eq);
            inline_value = true;
        }
        if (switches.count(name)) {
            if (inline_value) throw UsageError("option '--" + name + "' takes no value");
            values_[name] = "1";
        } else if (valued.count(name)) {
            if (!inline_value) {
                if (i + 1 >= argc) throw UsageError("option '--" + name + "' needs a value");
                value = argv[++i];
            }
            values_[name] = value;
            all_values_[name].push_back(value);
        } else {
            throw UsageError("unknown option '--" + name + "' (see --help)");
        }
    }
}

std::string CliArgs::get(const std::string &name, const std::string &def) const {
    auto it = values_.find(name);
    return it == values_.end() ? def : it->second;
}

std::vector<std::string> CliArgs::get_all(const std::string &name) const {
    auto it = all_values_.find(name);
    return it == all_values_.end() ? std::vector<std::string>{} : it->second;
}

int64_t CliArgs::get_int(const std::string &name, int64_t def, int64_t lo, int64_t hi) const {
    if (!has(name)) return def;
    const std::string s = get(name);
    errno = 0;
    char *end = nullptr;
    long long v = std::strtoll(s.c_str(), &end, 10);
    if (s.empty() || *end != '\0' || errno == ERANGE)
        throw UsageError("option '--" + name + "' expects an integer, got '" + s + "'");
    if (v < lo || v > hi)
        throw UsageError("option '--" + name + "' = " + s + " is out of range [" + std::to_string(lo) + ", " +
                         std::to_string(hi) + "]");
    return v;
}

double CliArgs::get_double(const std::string &name, double def) const {
    if (!has(name)) return def;
    const std::string s = get(name);
    char *end = nullptr;
    double v = std::strtod(s.c_str(), &end);
    if (s.empty() || *end != '\0' || !std::isfinite(v))
        throw UsageError("option '--" + name + "' expects a number, got '" + s + "'");
    return v;
}

}  // namespace qwenc
