// Ctrl-C while qwenrun generates, as in llama.cpp: the first SIGINT asks the
// running generation to stop before its next token (see
// GenerationRequest::interrupt); a second one, before that happens, ends the
// process as SIGINT does by default.
#pragma once
#include <atomic>

namespace qwenc {

// Installs the handler, unless SIGINT is ignored (a job started in the
// background keeps ignoring it). Without SA_RESTART: a read blocked on the
// terminal then fails, so --chat can tell Ctrl-C from the end of its input.
void catch_interrupts();

// The flag the handler sets.
const std::atomic<bool> &interrupt_flag();

// True if Ctrl-C was pressed since the last call; clears the flag.
bool take_interrupt();

// The exit status of a program ended by Ctrl-C (128 + SIGINT).
constexpr int kInterruptedExit = 130;

}  // namespace qwenc
