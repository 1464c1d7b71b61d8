// What this machine is: its architecture (as qwenc's manifest names it) and
// its CPU feature flags under Linux's names (from CPUID on x86, from
// /proc/cpuinfo elsewhere). QWENRT_CPU_FEATURES (a
// space- or comma-separated list) replaces the detected flags, so tests can
// play a CPU that lacks a feature.
#pragma once
#include <set>
#include <string>
#include <vector>

namespace qwenc {

std::string host_arch();
std::set<std::string> host_cpu_features();
// Features of `required` that this CPU lacks.
std::vector<std::string> missing_cpu_features(const std::vector<std::string> &required);

}  // namespace qwenc
