#include "emit/object_writer.h"

#include <stdexcept>
#include <system_error>

#include <llvm/IR/Function.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Metadata.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/raw_ostream.h>

namespace qwenc {

namespace {

constexpr const char *kHalideCpu = "sapphirerapids";
constexpr const char *kSafeCpu = "cannonlake";
// Off whatever "cannonlake" and Halide's own feature list may imply.
constexpr const char *kOff = ",-avxvnni,-avx512fp16,-amx-tile,-amx-int8,-amx-bf16";

bool retarget(llvm::Module &m) {
    bool changed = false;
    for (llvm::Function &f : m) {
        if (!f.hasFnAttribute("target-cpu") || f.getFnAttribute("target-cpu").getValueAsString() != kHalideCpu) continue;
        std::string features = f.hasFnAttribute("target-features")
                                   ? f.getFnAttribute("target-features").getValueAsString().str()
                                   : std::string();
        f.removeFnAttr("target-cpu");
        f.addFnAttr("target-cpu", kSafeCpu);
        f.removeFnAttr("target-features");
        f.addFnAttr("target-features", features + kOff);
        changed = true;
    }
    // The target machine Halide builds for the whole module reads these flags.
    if (auto *cpu = llvm::dyn_cast_or_null<llvm::MDString>(m.getModuleFlag("halide_mcpu"));
        cpu && cpu->getString() == kHalideCpu) {
        m.setModuleFlag(llvm::Module::Warning, "halide_mcpu", llvm::MDString::get(m.getContext(), kSafeCpu));
        changed = true;
    }
    if (auto *attrs = llvm::dyn_cast_or_null<llvm::MDString>(m.getModuleFlag("halide_mattrs")); attrs && changed)
        m.setModuleFlag(llvm::Module::Warning, "halide_mattrs",
                        llvm::MDString::get(m.getContext(), attrs->getString().str() + kOff));
    return changed;
}

}  // namespace

bool needs_retargeting(const Halide::Target &t) {
    return t.arch == Halide::Target::X86 && t.has_feature(Halide::Target::AVX512_SapphireRapids);
}

void write_object_file(const Halide::Module &module, const std::string &path) {
    llvm::LLVMContext context;
    std::unique_ptr<llvm::Module> m = Halide::compile_module_to_llvm_module(module, context);
    retarget(*m);
    std::error_code ec;
    llvm::raw_fd_ostream out(path, ec);
    if (ec) throw std::runtime_error(path + ": cannot write: " + ec.message());
    Halide::compile_llvm_module_to_object(*m, out);
}

}  // namespace qwenc
