#include "elf_file.h"

#include <algorithm>
#include <cstring>
#include <elf.h>
#include <fstream>
#include <vector>

#include "qwen2/config.h"

namespace qwenc {

namespace {

// The ELF header, or InputError if the file does not start with one.
Elf64_Ehdr read_header(const std::string &path, const std::vector<unsigned char> &bytes) {
    if (bytes.size() < 20 || std::memcmp(bytes.data(), ELFMAG, SELFMAG) != 0)
        throw InputError(path + ": not an ELF shared object (was it produced by qwenc?)");
    Elf64_Ehdr h{};
    std::memcpy(&h, bytes.data(), std::min(bytes.size(), sizeof h));
    return h;
}

}  // namespace

std::string elf_arch(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw InputError(path + ": cannot open");
    std::vector<unsigned char> head(20);
    in.read(reinterpret_cast<char *>(head.data()), std::streamsize(head.size()));
    head.resize(size_t(in.gcount()));
    const uint16_t machine = read_header(path, head).e_machine;
    switch (machine) {
    case EM_X86_64: return "x86-64";
    case EM_AARCH64: return "arm-64";
    case EM_RISCV: return "riscv-64";
    case EM_386: return "x86-32";
    case EM_ARM: return "arm-32";
    default: return "elf-machine-" + std::to_string(machine);
    }
}

void check_elf_complete(const std::string &path) {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in) throw InputError(path + ": cannot open");
    const uint64_t size = uint64_t(in.tellg());
    std::vector<unsigned char> head(sizeof(Elf64_Ehdr));
    in.seekg(0);
    in.read(reinterpret_cast<char *>(head.data()), std::streamsize(head.size()));
    head.resize(size_t(in.gcount()));
    const Elf64_Ehdr h = read_header(path, head);
    if (h.e_ident[EI_CLASS] != ELFCLASS64 || h.e_ident[EI_DATA] != ELFDATA2LSB)
        throw InputError(path + ": not a 64-bit little-endian ELF object (was it produced by qwenc?)");
    if (head.size() < sizeof h || h.e_phentsize != sizeof(Elf64_Phdr) ||
        (h.e_shnum != 0 && h.e_shentsize != sizeof(Elf64_Shdr)))
        throw InputError(path + ": corrupt ELF header (was it produced by qwenc?)");
    // The end of `count` entries of `each` bytes from `offset`, saturating.
    auto end_of = [](uint64_t offset, uint64_t count, uint64_t each) {
        const unsigned __int128 end = (unsigned __int128)offset + (unsigned __int128)count * each;
        return end > UINT64_MAX ? UINT64_MAX : uint64_t(end);
    };
    uint64_t needed = std::max(end_of(h.e_phoff, h.e_phnum, sizeof(Elf64_Phdr)), end_of(h.e_shoff, h.e_shnum, sizeof(Elf64_Shdr)));
    if (needed <= size) {
        std::vector<Elf64_Phdr> phdrs(h.e_phnum);
        in.seekg(std::streamoff(h.e_phoff));
        in.read(reinterpret_cast<char *>(phdrs.data()), std::streamsize(phdrs.size() * sizeof(Elf64_Phdr)));
        if (!in) throw InputError(path + ": cannot read its ELF program headers");
        for (const Elf64_Phdr &ph : phdrs)
            if (ph.p_type == PT_LOAD) needed = std::max(needed, end_of(ph.p_offset, 1, ph.p_filesz));
    }
    if (needed > size)
        throw InputError(path + ": truncated or corrupt: its ELF headers point past its end (" + std::to_string(size) +
                         " bytes; an interrupted copy? compile it again)");
}

}  // namespace qwenc
