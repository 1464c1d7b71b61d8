#pragma once
namespace qwenc {
constexpr const char *kQwencVersion = "0.1.0";
}
