// A small command-line parser shared by qwenc, qwenrun and the tools:
// GNU-style "--name value" / "--name=value" options, boolean switches and
// positionals, with a one-line error for anything unknown or malformed.
#pragma once
#include <cstdint>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace qwenc {

struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class CliArgs {
public:
    // `valued` options take a value; `switches` do not.
    CliArgs(int argc, char **argv, const std::set<std::string> &valued, const std::set<std::string> &switches);

    bool has(const std::string &name) const { return values_.count(name) > 0; }
    std::string get(const std::string &name, const std::string &def = "") const;
    int64_t get_int(const std::string &name, int64_t def, int64_t lo, int64_t hi) const;
    double get_double(const std::string &name, double def) const;
    // Every value of a repeatable option, in order.
    std::vector<std::string> get_all(const std::string &name) const;
    const std::vector<std::string> &positionals() const { return positionals_; }

private:
    std::map<std::string, std::string> values_;  // the last value of each option
    std::map<std::string, std::vector<std::string>> all_values_;
    std::vector<std::string> positionals_;
};

}  // namespace qwenc
