// The version of qwenc and qwenrun, written into every model object's
// manifest and printed by --version (kept equal to CMakeLists.txt's
// project VERSION; a test compares them).
#pragma once
namespace qwenc {
constexpr const char *kQwencVersion = "0.1.0";
}
