// The error every reader of untrusted input throws.
#pragma once
#include <stdexcept>

namespace qwenc {

// Thrown for any bad input file; what() is a complete one-line message that
// names the file and the problem.
struct InputError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

}  // namespace qwenc
