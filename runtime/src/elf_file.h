// Checks of a model object's ELF headers, made before dlopen: an object for
// another machine, or one cut short (an interrupted copy), gets a clear
// message instead of dlerror's, or a SIGBUS when dlopen touches pages
// past the end of the file.
#pragma once
#include <string>

namespace qwenc {

// The object's machine ("x86-64", "arm-64", ...); InputError if PATH is not
// an ELF file.
std::string elf_arch(const std::string &path);

// InputError naming PATH unless its program headers, loadable segments and
// section headers all lie inside the file (64-bit little-endian ELF, what
// qwenc emits for every target it supports). The section headers come last
// in the file, so any truncation is caught.
void check_elf_complete(const std::string &path);

}  // namespace qwenc
