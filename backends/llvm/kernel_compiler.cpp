// KernelSpec -> LLVM IR (kernel_emit.cpp) -> O3 for the host CPU (the loop vectorizer
// widens loops to AVX2/AVX-512 lanes) -> object code -> linked into the process by ORC
// LLJIT. A graph's kernels compile in parallel, each in its own LLVM context; object
// code is cached in memory by spec key and on disk (src/detail/kernel_cache.cpp).
#include <llvm/Analysis/TargetLibraryInfo.h>
#include <llvm/Analysis/ValueTracking.h>
#include <llvm/Config/llvm-config.h>
#include <llvm/ExecutionEngine/Orc/ExecutionUtils.h>
#include <llvm/ExecutionEngine/JITLink/JITLinkMemoryManager.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/ExecutionEngine/Orc/ObjectLinkingLayer.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/IR/Module.h>
#include <llvm/MC/MCContext.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/DynamicLibrary.h>
#include <llvm/Support/Host.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/Transforms/Utils/Cloning.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "kernel.hpp"
#include "kernel_emit.hpp"
#include "nx/detail/fusion/index_map.hpp"
#include "nx/detail/kernel_cache.hpp"
#include "nx/config.hpp"
#include "nx/error.hpp"
#include "thread_pool.hpp"

namespace nx::llvm_backend {
using detail::cache_load;
using detail::cache_open_dir;
using detail::cache_store;
using detail::default_cache_root;
using detail::fnv1a;
namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

template <class T> T checked(llvm::Expected<T> v, const char* what) {
  if (!v) throw Error("llvm", std::string(what) + ": " + llvm::toString(v.takeError()));
  return std::move(*v);
}

const llvm::TargetLibraryInfoImpl* vector_library(const llvm::Triple& triple);

struct Engine {
  std::unique_ptr<llvm::orc::LLJIT> jit;
  llvm::orc::JITTargetMachineBuilder builder{llvm::Triple()};  // the host, for each compiling thread
  std::string stamp;  // nx++ version, LLVM version, CPU: the disk cache's subdirectory
  std::mutex mu;
  std::unordered_map<std::string, KernelFn> kernels;  // by spec key
  std::unordered_map<std::string, KernelFn> linked;   // by spec key: everything in the JIT (survives forget_kernels)
  std::string cache_root = default_cache_root();
  CompileTimes total;
};

Engine& engine() {
  static Engine* e = [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    auto* made = new Engine;  // lives for the process: kernels may run during static destruction
    made->builder = checked(llvm::orc::JITTargetMachineBuilder::detectHost(), "detecting the host CPU");
    made->builder.setCodeGenOptLevel(llvm::CodeGenOpt::Default);
    // The small code model: constants are RIP-relative operands instead of a 64-bit
    // address load each (the JIT default, the large model, spends an instruction per
    // constant in every loop that reloads one). JITLink allocates each kernel's sections
    // together, so they are within reach, and reaches libm through stubs.
    made->builder.setCodeModel(llvm::CodeModel::Small);
    made->jit = checked(llvm::orc::LLJITBuilder()
                            .setJITTargetMachineBuilder(made->builder)
                            .setObjectLinkingLayerCreator([](llvm::orc::ExecutionSession& es, const llvm::Triple&) {
                              auto memory = checked(llvm::jitlink::InProcessMemoryManager::Create(), "allocating JIT memory");
                              return std::make_unique<llvm::orc::ObjectLinkingLayer>(es, std::move(memory));
                            })
                            .create(),
                        "starting LLJIT");
    // Kernels call libm (and libmvec): resolve from the symbols already in the process.
    made->jit->getMainJITDylib().addGenerator(checked(
        llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(made->jit->getDataLayout().getGlobalPrefix()),
        "searching the process for symbols"));
    std::string features = made->builder.getFeatures().getString();
    char hash[17];
    std::snprintf(hash, sizeof hash, "%016llx", static_cast<unsigned long long>(fnv1a(features)));
    // NX_KERNEL_REVISION hashes the kernel compiler's sources (CMakeLists.txt), so a
    // changed compiler never loads kernels an older one cached.
    made->stamp = std::string("nx") + NX_VERSION + "-" + NX_KERNEL_REVISION + "-llvm" + LLVM_VERSION_STRING + "-" +
                  made->builder.getCPU() + "-" + hash;
    vector_library(made->builder.getTargetTriple());  // loads libmvec, which cached kernels may call
    return made;
  }();
  return *e;
}

// Each compiling thread's own target machine (they are not shared between threads).
llvm::TargetMachine& thread_target_machine() {
  thread_local std::unique_ptr<llvm::TargetMachine> tm;
  if (!tm) tm = checked(engine().builder.createTargetMachine(), "creating the target machine");
  return *tm;
}

// glibc's libmvec (x86-64, AVX2 and up): vector exp, log and tanh for the loop
// vectorizer, so those ops vectorize instead of calling libm per element. Loaded into the
// process so the JIT's symbol search finds it; without it kernels call scalar libm.
const llvm::TargetLibraryInfoImpl* vector_library(const llvm::Triple& triple) {
  static std::unique_ptr<llvm::TargetLibraryInfoImpl> tlii = [&]() -> std::unique_ptr<llvm::TargetLibraryInfoImpl> {
    llvm::StringMap<bool> features;
    if (!triple.isX86() || !triple.isOSLinux() || !llvm::sys::getHostCPUFeatures(features) || !features.lookup("avx2") ||
        llvm::sys::DynamicLibrary::LoadLibraryPermanently("libmvec.so.1"))
      return nullptr;
    auto made = std::make_unique<llvm::TargetLibraryInfoImpl>(triple);
    made->addVectorizableFunctionsFromVecLib(llvm::TargetLibraryInfoImpl::LIBMVEC_X86);
    // LLVM 14's table predates glibc 2.35's vector tanh.
    static const llvm::VecDesc tanh_variants[] = {{"tanhf", "_ZGVbN4v_tanhf", llvm::ElementCount::getFixed(4)},
                                                  {"tanhf", "_ZGVdN8v_tanhf", llvm::ElementCount::getFixed(8)}};
    if (llvm::sys::DynamicLibrary::SearchForAddressOfSymbol("_ZGVdN8v_tanhf")) made->addVectorizableFunctions(tanh_variants);
    return made;
  }();
  return tlii.get();
}

void optimize(llvm::Module& m, llvm::TargetMachine& tm) {
  llvm::PipelineTuningOptions tuning;
  tuning.LoopUnrolling = false;  // the vectorized loop is wide enough; unrolling it only slows codegen
  llvm::PassBuilder pb(&tm, tuning);
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  if (const llvm::TargetLibraryInfoImpl* tlii = vector_library(llvm::Triple(m.getTargetTriple())))
    fam.registerPass([&] { return llvm::TargetLibraryAnalysis(*tlii); });  // before the default one
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  pb.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3).run(m, mam);
}

// Marks a streaming kernel's vector stores (after the loop vectorizer made them, which
// it refuses to do for non-temporal scalar stores) non-temporal and aligned to their
// size, up to 64 bytes. The alignment is the kernel contract: flat kernels are called on
// ranges starting at multiples of 64 elements of 64-byte-aligned buffers, and the vector
// loop starts at the range's start, stepping whole vectors.
void stream_vector_stores(llvm::Module& m) {
  for (llvm::Function& f : m)
    for (llvm::BasicBlock& bb : f)
      for (llvm::Instruction& i : bb) {
        auto* st = llvm::dyn_cast<llvm::StoreInst>(&i);
        if (!st || !st->getValueOperand()->getType()->isVectorTy() ||
            llvm::isa<llvm::AllocaInst>(llvm::getUnderlyingObject(st->getPointerOperand())))
          continue;
        uint64_t bytes = m.getDataLayout().getTypeStoreSize(st->getValueOperand()->getType()).getFixedSize();
        if (bytes < 16 || bytes > 64 || (bytes & (bytes - 1))) continue;
        st->setAlignment(llvm::Align(bytes));
        st->setMetadata(llvm::LLVMContext::MD_nontemporal,
                        llvm::MDNode::get(m.getContext(), llvm::ConstantAsMetadata::get(
                                                              llvm::ConstantInt::get(llvm::Type::getInt32Ty(m.getContext()), 1))));
      }
}

// NX_LLVM_DUMP=dir writes each kernel's optimised IR to dir/<kernel>.ll, headed by its
// spec, and its assembly to dir/<kernel>.s.
void dump(const llvm::Module& m, const std::string& name, const std::string& key, llvm::TargetMachine& tm) {
  const char* dir = std::getenv("NX_LLVM_DUMP");
  if (!dir || !*dir) return;
  std::error_code ec;
  llvm::raw_fd_ostream ir(std::string(dir) + "/" + name + ".ll", ec);
  if (ec) throw Error("llvm", "NX_LLVM_DUMP: cannot write to " + std::string(dir) + ": " + ec.message());
  ir << "; nx kernel spec: " << key << "\n";
  m.print(ir, nullptr);
  llvm::raw_fd_ostream asm_out(std::string(dir) + "/" + name + ".s", ec);
  if (ec) throw Error("llvm", "NX_LLVM_DUMP: cannot write to " + std::string(dir) + ": " + ec.message());
  std::unique_ptr<llvm::Module> copy = llvm::CloneModule(m);  // code generation changes the module
  llvm::legacy::PassManager pm;
  if (tm.addPassesToEmitFile(pm, asm_out, nullptr, llvm::CGFT_AssemblyFile))
    throw Error("llvm", "the target cannot write assembly");
  pm.run(*copy);
}

}  // namespace



namespace {

// One kernel's object code, from the disk cache or compiled now (emit, O3, machine
// code), with the time each stage took.
struct Built {
  std::string key, name, object;
  CompileTimes times;
  bool loaded = false;
};

// Compiles the kernel into out.object and stores it in the disk cache (cache_dir, if
// any), replacing what was there.
void compile(const KernelSpec& spec, Built& out, const std::string& cache_dir) {
  Clock::time_point t0 = Clock::now();
  llvm::TargetMachine& tm = thread_target_machine();
  llvm::LLVMContext context;
  llvm::Module module(out.name, context);
  module.setDataLayout(tm.createDataLayout());
  module.setTargetTriple(tm.getTargetTriple().str());
  emit_kernel(spec, out.name, module);
  out.times.emit_ms = ms_since(t0);
  t0 = Clock::now();
  optimize(module, tm);
  if (spec.stream) stream_vector_stores(module);
  out.times.optimize_ms = ms_since(t0);
  dump(module, out.name, out.key, tm);
  t0 = Clock::now();
  llvm::SmallVector<char, 0> object;
  {
    llvm::raw_svector_ostream os(object);
    llvm::legacy::PassManager pm;
    llvm::MCContext* mc = nullptr;
    if (tm.addPassesToEmitMC(pm, mc, os)) throw Error("llvm", "the target cannot emit machine code");
    pm.run(module);
  }
  out.object.assign(object.begin(), object.end());
  out.times.codegen_ms = ms_since(t0);
  if (!cache_dir.empty()) cache_store(cache_dir, out.key, out.object);
}

void build(const KernelSpec& spec, Built& out, const std::string& cache_dir) {
  Clock::time_point t0 = Clock::now();
  const char* dumping = std::getenv("NX_LLVM_DUMP");  // dumps need a compile
  if (!cache_dir.empty() && !(dumping && *dumping))
    if (std::optional<std::string> object = cache_load(cache_dir, out.key)) {
      out.object = std::move(*object);
      out.loaded = true;
      out.times.load_ms = ms_since(t0);
      return;
    }
  compile(spec, out, cache_dir);
}

// Links b's object into the JIT and finds its kernel, or says why not. The object goes
// in a resource tracker of its own, so that one that fails (a cache file whose checksum
// holds but whose code does not link) leaves no symbols behind.
std::optional<KernelFn> link(Engine& e, const Built& b, std::string& error) {
  llvm::orc::ResourceTrackerSP tracker = e.jit->getMainJITDylib().createResourceTracker();
  llvm::Error err = e.jit->addObjectFile(tracker, llvm::MemoryBuffer::getMemBufferCopy(b.object, b.name));
  if (!err) {
    auto symbol = e.jit->lookup(b.name);
    if (symbol) return reinterpret_cast<KernelFn>(symbol->getAddress());
    err = symbol.takeError();
  }
  error = llvm::toString(std::move(err));
  llvm::consumeError(tracker->remove());
  return std::nullopt;
}

}  // namespace

std::vector<KernelFn> compile_kernels(std::span<const KernelSpec* const> specs) {
  Engine& e = engine();
  std::vector<KernelFn> fns(specs.size(), nullptr);
  std::vector<Built> todo;
  std::vector<std::vector<size_t>> wanted_by;  // per todo: which specs it serves
  std::string cache_root;
  {
    std::lock_guard lock(e.mu);
    cache_root = e.cache_root;
    std::unordered_map<std::string, size_t> pending;
    for (size_t k = 0; k < specs.size(); ++k) {
      std::string key = specs[k]->key();
      if (auto it = e.kernels.find(key); it != e.kernels.end()) {
        fns[k] = it->second;
      } else if (auto p = pending.find(key); p != pending.end()) {
        wanted_by[p->second].push_back(k);
      } else {
        char name[40];
        std::snprintf(name, sizeof name, "nx_kernel_%016llx", static_cast<unsigned long long>(fnv1a(key)));
        pending.emplace(key, todo.size());
        todo.push_back({std::move(key), name, {}, {}, false});
        wanted_by.push_back({k});
      }
    }
  }
  std::string cache_dir = todo.empty() || cache_root.empty() ? "" : cache_open_dir(cache_root, "llvm", e.stamp);
  // Kernels compile in parallel, one per worker (each with its own LLVM context).
  std::vector<std::string> errors(todo.size());
  parallel_for(static_cast<int64_t>(todo.size()), 1, 0, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      try {
        build(*specs[wanted_by[static_cast<size_t>(t)][0]], todo[static_cast<size_t>(t)], cache_dir);
      } catch (const std::exception& ex) {
        errors[static_cast<size_t>(t)] = ex.what();
      }
    }
  }, 1);
  for (const std::string& err : errors)
    if (!err.empty()) throw Error("llvm", err);
  std::lock_guard lock(e.mu);
  for (size_t t = 0; t < todo.size(); ++t) {
    Built& b = todo[t];
    KernelFn fn;
    if (auto it = e.kernels.find(b.key); it != e.kernels.end()) {  // another thread added it meanwhile
      fn = it->second;
    } else {
      Clock::time_point t0 = Clock::now();
      if (auto linked = e.linked.find(b.key); linked != e.linked.end()) {  // linked before forget_kernels()
        fn = linked->second;
      } else {
        std::string error;
        std::optional<KernelFn> linked_fn = link(e, b, error);
        if (!linked_fn && b.loaded) {
          // An intact cache file whose object does not link (garbage, or another
          // kernel's) is a miss: compile (here, under the lock: it is rare), which also
          // replaces the file.
          b.loaded = false;
          compile(*specs[wanted_by[t][0]], b, cache_dir);
          t0 = Clock::now();
          linked_fn = link(e, b, error);
        }
        if (!linked_fn) throw Error("llvm", "linking a kernel: " + error);
        fn = *linked_fn;
        e.linked.emplace(b.key, fn);
      }
      (b.loaded ? b.times.load_ms : b.times.codegen_ms) += ms_since(t0);
      e.kernels.emplace(b.key, fn);
      e.total.emit_ms += b.times.emit_ms;
      e.total.optimize_ms += b.times.optimize_ms;
      e.total.codegen_ms += b.times.codegen_ms;
      e.total.load_ms += b.times.load_ms;
      (b.loaded ? e.total.loaded : e.total.compiled) += 1;
    }
    for (size_t k : wanted_by[t]) fns[k] = fn;
  }
  return fns;
}

KernelFn compile_kernel(const KernelSpec& spec) {
  const KernelSpec* one = &spec;
  return compile_kernels({&one, 1})[0];
}

void set_cache_root(std::string dir) {
  Engine& e = engine();
  std::lock_guard lock(e.mu);
  e.cache_root = std::move(dir);
}

std::string cache_root() {
  Engine& e = engine();
  std::lock_guard lock(e.mu);
  return e.cache_root;
}

void forget_kernels() {
  Engine& e = engine();
  std::lock_guard lock(e.mu);
  e.kernels.clear();
}

CompileTimes total_compile_times() {
  Engine& e = engine();
  std::lock_guard lock(e.mu);
  return e.total;
}

}  // namespace nx::llvm_backend
