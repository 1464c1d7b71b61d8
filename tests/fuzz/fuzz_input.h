// What every fuzz target shares: the input as a file where the parser under
// test takes a path (a private directory per process, rewritten for each
// input), and the one rule a finding breaks besides crashing, hanging or
// tripping a sanitizer: bad input may only end in InputError, the error the
// tools turn into one line naming the file.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <string>
#include <unistd.h>

#include "file_io.h"
#include "input_error.h"

namespace qwenc::fuzz {

// A directory of this process's own for the files a target writes.
inline const std::string &work_dir() {
    static PrivateTempDir dir("qwenc-fuzz");
    return dir.path();
}

// Writes the input to work_dir()/name and returns the path.
inline std::string as_file(const std::string &name, const uint8_t *data, size_t size) {
    const std::string path = work_dir() + "/" + name;
    std::ofstream(path, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char *>(data), std::streamsize(size));
    return path;
}

// Runs `parse`; an InputError is the expected way to refuse, anything else
// thrown is a finding (an error that names no file, or a bug).
template <typename F>
int refuse_only_with_input_error(F &&parse) {
    try {
        parse();
    } catch (const InputError &) {
    } catch (const std::exception &e) {
        std::fprintf(stderr, "finding: an exception other than InputError: %s\n", e.what());
        std::abort();
    }
    return 0;
}

}  // namespace qwenc::fuzz
