#include "file_io.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <sys/stat.h>
#include <unistd.h>

#include "input_error.h"

namespace qwenc {

namespace fs = std::filesystem;

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)) {
    const fs::path p(path_);
    const std::string dir = p.has_parent_path() ? p.parent_path().string() : ".";
    std::string pattern = dir + "/." + p.filename().string() + ".tmp-XXXXXX";
    fd_ = ::mkostemp(pattern.data(), O_CLOEXEC);
    if (fd_ < 0) throw InputError(path_ + ": cannot write: " + std::strerror(errno));
    tmp_ = pattern;
    // mkostemp makes the file 0600; a written model or config is for others to read too.
    const mode_t mask = ::umask(0);
    ::umask(mask);
    ::fchmod(fd_, 0666 & ~mask);
}

AtomicFile::~AtomicFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(tmp_.c_str());
}

void AtomicFile::fail(const std::string &what) const {
    throw InputError(path_ + ": cannot write (" + what + "); the file was left as it was");
}

void AtomicFile::write(const void *data, size_t n) {
    const char *p = static_cast<const char *>(data);
    while (n > 0) {
        const ssize_t w = ::write(fd_, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) fail(w < 0 ? std::strerror(errno) : "no space written");
        p += w, n -= size_t(w);
    }
}

void AtomicFile::commit() {
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) fail(std::strerror(errno));
    // Synced by name: a tool given temp_path() (a linker) may have replaced the file.
    const int sync_fd = ::open(tmp_.c_str(), O_RDONLY | O_CLOEXEC);
    if (sync_fd < 0) fail(std::strerror(errno));
    const bool synced = ::fsync(sync_fd) == 0;
    const int err = errno;
    ::close(sync_fd);
    if (!synced) fail(std::strerror(err));
    if (::rename(tmp_.c_str(), path_.c_str()) != 0) fail(std::strerror(errno));
    committed_ = true;
}

void write_file_atomic(const std::string &path, std::string_view bytes) {
    AtomicFile f(path);
    f.write(bytes);
    f.commit();
}

std::string read_text_file(const std::string &path) {
    const int fd = open_regular_file(path);
    struct Close {
        int fd;
        ~Close() { ::close(fd); }
    } close_fd{fd};
    std::string text;
    char buf[1 << 16];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw InputError(path + ": read error: " + std::strerror(errno));
        if (n == 0) return text;
        if (text.size() + size_t(n) > kMaxTextFileBytes)
            throw InputError(path + ": larger than " + std::to_string(kMaxTextFileBytes >> 20) + " MiB, the most read as text");
        text.append(buf, size_t(n));
    }
}

void copy_file_contents(const std::string &from, const std::string &to) { write_file_atomic(to, read_text_file(from)); }

PrivateTempDir::PrivateTempDir(const std::string &prefix) {
    std::error_code ec;
    const fs::path base = fs::temp_directory_path(ec);
    std::string pattern = ((ec ? fs::path("/tmp") : base) / (prefix + "-XXXXXX")).string();
    if (!::mkdtemp(pattern.data()))
        throw InputError(pattern + ": cannot make a private temporary directory: " + std::strerror(errno));
    path_ = pattern;
}

PrivateTempDir::~PrivateTempDir() {
    std::error_code ec;
    if (!keep_) fs::remove_all(path_, ec);
}

int open_regular_file(const std::string &path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) throw InputError(path + ": cannot open: " + std::strerror(errno));
    struct stat st;
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        throw InputError(path + ": not a regular file");
    }
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    return fd;
}

}  // namespace qwenc
