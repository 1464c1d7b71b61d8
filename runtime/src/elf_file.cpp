#include "elf_file.h"

#include <algorithm>
#include <cstring>
#include <elf.h>
#include <fstream>
#include <vector>

#include "json_input.h"

namespace qwenc {

namespace {

// PATH opened, with the ELF header it starts with in `h` and the number of
// its bytes the file holds (fewer than sizeof h when the file is shorter);
// InputError if it cannot be opened or does not start with "\x7fELF" and
// e_machine.
std::ifstream open_elf(const std::string &path, Elf64_Ehdr &h, size_t &got) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw InputError(path + ": cannot open");
    h = {};
    in.read(reinterpret_cast<char *>(&h), sizeof h);
    got = size_t(in.gcount());
    if (got < 20 || std::memcmp(h.e_ident, ELFMAG, SELFMAG) != 0)
        throw InputError(path + ": not an ELF shared object (was it produced by qwenc?)");
    in.clear();
    return in;
}

}  // namespace

std::string elf_arch(const std::string &path) {
    Elf64_Ehdr h;
    size_t got;
    open_elf(path, h, got);
    switch (h.e_machine) {
    case EM_X86_64: return "x86-64";
    case EM_AARCH64: return "arm-64";
    case EM_RISCV: return "riscv-64";
    case EM_386: return "x86-32";
    case EM_ARM: return "arm-32";
    default: return "elf-machine-" + std::to_string(h.e_machine);
    }
}

void check_elf_complete(const std::string &path) {
    Elf64_Ehdr h;
    size_t got;
    std::ifstream in = open_elf(path, h, got);
    if (h.e_ident[EI_CLASS] != ELFCLASS64 || h.e_ident[EI_DATA] != ELFDATA2LSB)
        throw InputError(path + ": not a 64-bit little-endian ELF object (was it produced by qwenc?)");
    if (got < sizeof h || h.e_phentsize != sizeof(Elf64_Phdr) || (h.e_shnum != 0 && h.e_shentsize != sizeof(Elf64_Shdr)))
        throw InputError(path + ": corrupt ELF header (was it produced by qwenc?)");
    in.seekg(0, std::ios::end);
    const uint64_t size = uint64_t(in.tellg());
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
