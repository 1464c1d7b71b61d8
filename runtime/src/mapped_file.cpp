#include "mapped_file.h"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <mutex>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file_io.h"
#include "input_error.h"

namespace qwenc {

namespace {

// The mappings a SIGBUS may come from, read by the signal handler without
// locks: a fixed table of slots, each claimed by one MappedFile.
struct Slot {
    std::atomic<uintptr_t> begin{0}, end{0};  // end == 0: free
    std::atomic<bool> faulted{false};
};
constexpr size_t kSlots = 4096;
Slot g_slots[kSlots];
std::mutex g_claim_mutex;  // claiming and freeing slots (not the handler)
struct sigaction g_previous;
uintptr_t g_page_size = 4096;  // set before the handler is installed

// A read of a mapped file's page past its end (the file was truncated
// while mapped) raises SIGBUS. In our mappings, the rest of the mapping
// from that page on becomes zero pages, the slot is marked, and the read
// returns zeros; the runtime then reports the file (MappedFile::check).
// Anything else goes to the handler that was there before, or kills the
// process as SIGBUS would have.
void on_sigbus(int sig, siginfo_t *info, void *ctx) {
    const uintptr_t addr = reinterpret_cast<uintptr_t>(info->si_addr);
    for (Slot &s : g_slots) {
        const uintptr_t end = s.end.load(std::memory_order_acquire);
        const uintptr_t begin = s.begin.load(std::memory_order_acquire);
        if (end == 0 || addr < begin || addr >= end) continue;
        const uintptr_t page = addr & ~(g_page_size - 1);
        s.faulted.store(true, std::memory_order_release);
        if (::mmap(reinterpret_cast<void *>(page), end - page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) !=
            MAP_FAILED)
            return;
        break;
    }
    if (g_previous.sa_flags & SA_SIGINFO) {
        if (g_previous.sa_sigaction) return g_previous.sa_sigaction(sig, info, ctx);
    } else if (g_previous.sa_handler != SIG_DFL && g_previous.sa_handler != SIG_IGN) {
        return g_previous.sa_handler(sig);
    }
    ::signal(SIGBUS, SIG_DFL);
    ::raise(SIGBUS);
}

void install_handler() {
    static std::once_flag once;
    std::call_once(once, [] {
        g_page_size = uintptr_t(::sysconf(_SC_PAGESIZE));
        struct sigaction sa {};
        sa.sa_sigaction = on_sigbus;
        sa.sa_flags = SA_SIGINFO | SA_NODEFER;
        sigemptyset(&sa.sa_mask);
        ::sigaction(SIGBUS, &sa, &g_previous);
    });
}

}  // namespace

MappedFile::MappedFile(const std::string &path) : path_(path) {
    const int fd = open_regular_file(path);
    struct stat st;
    if (::fstat(fd, &st) != 0) {
        ::close(fd);
        throw InputError(path + ": cannot stat: " + std::strerror(errno));
    }
    size_ = size_t(st.st_size);
    if (size_ > 0) {
        void *p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            int err = errno;
            ::close(fd);
            throw InputError(path + ": mmap failed: " + std::strerror(err));
        }
        data_ = static_cast<const uint8_t *>(p);
        // Ask for 2 MB page-cache folios, mapped with 2 MB pages: decode
        // streams every weight once per token, and on 4 KB pages the TLB
        // misses and prefetchers stopping at each page cost a good part of
        // the bandwidth (docs/performance.md). Only pages read
        // from disk through this mapping are affected; advisory, so errors
        // (no THP in this kernel) are ignored.
        ::madvise(p, size_, MADV_HUGEPAGE);
        install_handler();
        std::lock_guard<std::mutex> lock(g_claim_mutex);
        for (size_t i = 0; i < kSlots; i++) {
            if (g_slots[i].end.load() != 0) continue;
            g_slots[i].faulted = false;
            g_slots[i].begin = reinterpret_cast<uintptr_t>(data_);
            g_slots[i].end = reinterpret_cast<uintptr_t>(data_) + size_;
            slot_ = int(i);
            break;
        }
        // With every slot taken (thousands of files mapped) this file is
        // unguarded: a truncation kills the process as before.
    }
    ::close(fd);
}

MappedFile::~MappedFile() {
    if (slot_ >= 0) {
        std::lock_guard<std::mutex> lock(g_claim_mutex);
        g_slots[slot_].end = 0;
        g_slots[slot_].begin = 0;
    }
    if (data_) ::munmap(const_cast<uint8_t *>(data_), size_);
}

void MappedFile::check() const {
    if (slot_ >= 0 && g_slots[slot_].faulted.load(std::memory_order_acquire))
        throw InputError(path_ + ": the file was truncated while in use, and what was read of it since is void; "
                                 "replace weights by writing new files and renaming them, then load the model again");
}

}  // namespace qwenc
