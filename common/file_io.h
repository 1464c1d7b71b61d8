// Files the tools write and directories they work in, made so that a
// failure never leaves a partial file behind and no other user can reach
// into them.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace qwenc {

// Writes `path` all or nothing: the bytes go to a new file with a private
// temporary name in the same directory, and commit() checks every write,
// fsyncs, and renames it over `path`. Without commit() (an error, an
// exception) the temporary file is removed and `path` keeps its old
// contents. Throws InputError naming `path` (and the system's reason: a
// full disk, a file size limit) on any failure.
class AtomicFile {
public:
    explicit AtomicFile(std::string path);
    ~AtomicFile();
    AtomicFile(const AtomicFile &) = delete;
    AtomicFile &operator=(const AtomicFile &) = delete;

    void write(const void *data, size_t n);
    void write(std::string_view s) { write(s.data(), s.size()); }
    void commit();
    // The temporary file's path, for a tool that writes it by name (a
    // linker); write() is then not used.
    const std::string &temp_path() const { return tmp_; }
    const std::string &path() const { return path_; }

private:
    std::string path_, tmp_;
    int fd_ = -1;
    bool committed_ = false;
    [[noreturn]] void fail(const std::string &what) const;
};

// Largest file read whole as text (a tokenizer.json is ~11 MB).
constexpr size_t kMaxTextFileBytes = size_t(256) << 20;
// Reads a whole regular file (not a FIFO or a device; see
// open_regular_file); throws InputError naming the file.
std::string read_text_file(const std::string &path);

// write_file_atomic(path, bytes): an AtomicFile written in one go.
void write_file_atomic(const std::string &path, std::string_view bytes);
// Copies a file's bytes (not its permissions: a read-only source, such as
// ../shared's configs, must not make a copy the next run cannot replace).
void copy_file_contents(const std::string &from, const std::string &to);

// A new directory only this user can enter, with an unpredictable name
// (mkdtemp) under $TMPDIR or /tmp, removed with its contents on
// destruction unless keep(). Never an existing directory: another user
// could have made that one, with symlinks in it.
class PrivateTempDir {
public:
    explicit PrivateTempDir(const std::string &prefix);
    ~PrivateTempDir();
    PrivateTempDir(const PrivateTempDir &) = delete;
    PrivateTempDir &operator=(const PrivateTempDir &) = delete;
    const std::string &path() const { return path_; }
    void keep() { keep_ = true; }

private:
    std::string path_;
    bool keep_ = false;
};

// Opens `path` for reading only if it is a regular file: it is opened with
// O_NONBLOCK (a FIFO would block open() forever) and checked with fstat
// before anything reads it. Returns the descriptor (O_CLOEXEC, blocking
// again); throws InputError naming the file.
int open_regular_file(const std::string &path);

}  // namespace qwenc
