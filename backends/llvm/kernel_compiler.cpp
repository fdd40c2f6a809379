// KernelSpec -> LLVM IR (one loop over the element range, the body straight-line) ->
// O3 for the host CPU (the loop vectorizer widens it to AVX2/AVX-512 lanes) -> machine
// code through ORC LLJIT, in process. Floating-point semantics are IEEE (no fast-math):
// results match interp's elementwise kernels bit for bit.
#include <llvm/Analysis/TargetLibraryInfo.h>
#include <llvm/ExecutionEngine/Orc/ExecutionUtils.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/ExecutionEngine/Orc/ThreadSafeModule.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/DynamicLibrary.h>
#include <llvm/Support/Host.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <unordered_map>

#include "kernel.hpp"
#include "nx/error.hpp"

namespace nx::llvm_backend {
namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

template <class T> T checked(llvm::Expected<T> v, const char* what) {
  if (!v) throw Error("llvm", std::string(what) + ": " + llvm::toString(v.takeError()));
  return std::move(*v);
}

struct Engine {
  std::unique_ptr<llvm::orc::LLJIT> jit;
  std::unique_ptr<llvm::TargetMachine> tm;  // drives the optimisation pipeline's cost model
  std::mutex mu;
  std::unordered_map<std::string, KernelFn> kernels;
  int next_id = 0;
  CompileTimes total;
};

Engine& engine() {
  static Engine* e = [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    auto* made = new Engine;  // lives for the process: kernels may run during static destruction
    auto builder = checked(llvm::orc::JITTargetMachineBuilder::detectHost(), "detecting the host CPU");
    builder.setCodeGenOptLevel(llvm::CodeGenOpt::Default);
    made->tm = checked(builder.createTargetMachine(), "creating the target machine");
    made->jit = checked(llvm::orc::LLJITBuilder().setJITTargetMachineBuilder(builder).create(), "starting LLJIT");
    // Kernels call libm (and libmvec): resolve from the symbols already in the process.
    made->jit->getMainJITDylib().addGenerator(checked(
        llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(made->jit->getDataLayout().getGlobalPrefix()),
        "searching the process for symbols"));
    return made;
  }();
  return *e;
}

llvm::Type* type_of(DType t, llvm::LLVMContext& c) {
  if (t == DType::bool_) return llvm::Type::getInt8Ty(c);  // one byte, 0 or 1
  return t == DType::f64 ? llvm::Type::getDoubleTy(c) : llvm::Type::getFloatTy(c);
}

// tanh on f32 as a rational function (odd degree-13 numerator, even degree-6
// denominator, the coefficients Eigen uses) on x clamped to +-7.9053, where it reaches
// +-1; x itself below 4e-4; NaN stays NaN. Vectorises fully (no calls).
llvm::Value* tanh_f32(llvm::IRBuilder<>& b, llvm::Module& m, llvm::Value* x0) {
  llvm::Type* t = x0->getType();
  auto k = [&](double v) { return llvm::ConstantFP::get(t, v); };
  auto call = [&](llvm::Intrinsic::ID id, llvm::Value* u) {
    return b.CreateCall(llvm::Intrinsic::getDeclaration(&m, id, {t}), {u});
  };
  llvm::Value* clamp = k(7.90531110763549805);
  llvm::Value* x = b.CreateSelect(b.CreateFCmpOGT(x0, clamp), clamp, x0);
  x = b.CreateSelect(b.CreateFCmpOLT(x, b.CreateFNeg(clamp)), b.CreateFNeg(clamp), x);
  llvm::Value* x2 = b.CreateFMul(x, x);
  // Highest degree first; multiply-adds may fuse (FMA) inside this approximation only.
  auto horner = [&](std::initializer_list<double> coefficients) {
    llvm::Value* acc = nullptr;
    for (double c : coefficients)
      acc = acc ? static_cast<llvm::Value*>(b.CreateCall(llvm::Intrinsic::getDeclaration(&m, llvm::Intrinsic::fmuladd, {t}), {acc, x2, k(c)})) : k(c);
    return acc;
  };
  llvm::Value* p = b.CreateFMul(x, horner({-2.76076847742355e-16, 2.00018790482477e-13, -8.60467152213735e-11,
                                            5.12229709037114e-08, 1.48572235717979e-05, 6.37261928875436e-04,
                                            4.89352455891786e-03}));
  llvm::Value* q = horner({1.19825839466702e-06, 1.18534705686654e-04, 2.26843463243900e-03, 4.89352518554385e-03});
  llvm::Value* r = b.CreateSelect(b.CreateFCmpOLT(call(llvm::Intrinsic::fabs, x0), k(0.0004)), x0, b.CreateFDiv(p, q));
  return b.CreateSelect(b.CreateFCmpUNO(x0, x0), x0, r);
}

// One elementwise op with nx's semantics (max/min propagate NaN; comparisons with NaN
// are false except not_equal; bools are bytes 0/1; as_type to bool is x != 0).
llvm::Value* emit_op(llvm::IRBuilder<>& b, llvm::Module& m, Op op, DType result, const std::vector<llvm::Value*>& a) {
  llvm::LLVMContext& c = m.getContext();
  auto to_bool = [&](llvm::Value* bit) { return b.CreateZExt(bit, llvm::Type::getInt8Ty(c)); };
  auto intrinsic_of = [&](llvm::Intrinsic::ID id, llvm::Value* x) {
    return b.CreateCall(llvm::Intrinsic::getDeclaration(&m, id, {x->getType()}), {x});
  };
  auto intrinsic = [&](llvm::Intrinsic::ID id) { return intrinsic_of(id, a[0]); };
  // A libm function the vectorizer may replace by its libmvec variant (vector_library()).
  auto libm = [&](const char* f32_name, const char* f64_name) {
    llvm::Type* t = a[0]->getType();
    llvm::FunctionCallee f = m.getOrInsertFunction(t->isDoubleTy() ? f64_name : f32_name, t, t);
    auto* decl = llvm::cast<llvm::Function>(f.getCallee());
    decl->setDoesNotAccessMemory();
    decl->setDoesNotThrow();
    decl->addFnAttr(llvm::Attribute::WillReturn);
    return b.CreateCall(f, {a[0]});
  };
  switch (op) {
    case Op::Add: return b.CreateFAdd(a[0], a[1]);
    case Op::Subtract: return b.CreateFSub(a[0], a[1]);
    case Op::Multiply: return b.CreateFMul(a[0], a[1]);
    case Op::Divide: return b.CreateFDiv(a[0], a[1]);
    case Op::Negate: return b.CreateFNeg(a[0]);
    case Op::Abs: return intrinsic(llvm::Intrinsic::fabs);
    case Op::Sqrt: return intrinsic(llvm::Intrinsic::sqrt);
    case Op::Exp: return intrinsic(llvm::Intrinsic::exp);
    case Op::Log: return intrinsic(llvm::Intrinsic::log);
    case Op::Tanh: return a[0]->getType()->isFloatTy() ? tanh_f32(b, m, a[0]) : libm("tanhf", "tanh");
    case Op::Sigmoid: {  // stable on both tails, as interp: e = exp(-|x|)
      llvm::Value* one = llvm::ConstantFP::get(a[0]->getType(), 1.0);
      llvm::Value* e = intrinsic_of(llvm::Intrinsic::exp, b.CreateFNeg(intrinsic(llvm::Intrinsic::fabs)));
      llvm::Value* d = b.CreateFAdd(one, e);
      return b.CreateSelect(b.CreateFCmpOGE(a[0], llvm::ConstantFP::get(a[0]->getType(), 0.0)), b.CreateFDiv(one, d),
                            b.CreateFDiv(e, d));
    }
    case Op::Max:
    case Op::Min: {
      llvm::Value* pick_a = op == Op::Max ? b.CreateFCmpOGT(a[0], a[1]) : b.CreateFCmpOLT(a[0], a[1]);
      llvm::Value* r = b.CreateSelect(pick_a, a[0], a[1]);  // b's NaN comes through here
      return b.CreateSelect(b.CreateFCmpUNO(a[0], a[0]), a[0], r);
    }
    case Op::Broadcast: return a[0];  // the input's access (a row, a column) does the broadcasting
    case Op::IsNan: return to_bool(b.CreateFCmpUNO(a[0], a[0]));
    case Op::IsInfinity:
      return to_bool(b.CreateFCmpOEQ(intrinsic(llvm::Intrinsic::fabs), llvm::ConstantFP::getInfinity(a[0]->getType())));
    case Op::Equal: return to_bool(b.CreateFCmpOEQ(a[0], a[1]));
    case Op::NotEqual: return to_bool(b.CreateFCmpUNE(a[0], a[1]));
    case Op::Less: return to_bool(b.CreateFCmpOLT(a[0], a[1]));
    case Op::LessEqual: return to_bool(b.CreateFCmpOLE(a[0], a[1]));
    case Op::Greater: return to_bool(b.CreateFCmpOGT(a[0], a[1]));
    case Op::GreaterEqual: return to_bool(b.CreateFCmpOGE(a[0], a[1]));
    case Op::Select: return b.CreateSelect(b.CreateICmpNE(a[0], llvm::ConstantInt::get(a[0]->getType(), 0)), a[1], a[2]);
    case Op::AsType: {
      llvm::Type* from = a[0]->getType();
      if (result == DType::bool_)
        return to_bool(from->isIntegerTy() ? b.CreateICmpNE(a[0], llvm::ConstantInt::get(from, 0))
                                           : b.CreateFCmpUNE(a[0], llvm::ConstantFP::get(from, 0.0)));
      llvm::Type* to = type_of(result, c);
      if (from->isIntegerTy()) return b.CreateUIToFP(a[0], to);
      if (from == to) return a[0];
      return from->isDoubleTy() ? b.CreateFPTrunc(a[0], to) : b.CreateFPExt(a[0], to);
    }
    default: throw Error("llvm", std::string("no kernel code for ") + std::string(op_name(op)));
  }
}

// The loop over elements [begin, end) (or rows [begin, end), each a loop over cols) with
// every buffer a noalias argument (inputs are only read, outputs are fresh), so the
// vectorizer needs no runtime overlap checks; the exported
// kernel(void* const* buffers, i64 begin, i64 end, i64 cols) unpacks the buffers and
// calls it (inlined).
void emit(const KernelSpec& spec, const std::string& name, llvm::Module& m) {
  llvm::LLVMContext& c = m.getContext();
  llvm::Type *i64 = llvm::Type::getInt64Ty(c), *ptr = llvm::Type::getInt8PtrTy(c);
  size_t nin = spec.inputs.size(), nbuf = nin + spec.outputs.size();
  auto dtype_of_buffer = [&](size_t k) {
    return k < nin ? spec.inputs[k].dtype : spec.code[static_cast<size_t>(spec.outputs[k - nin])].dtype;
  };
  std::vector<llvm::Type*> params;
  for (size_t k = 0; k < nbuf; ++k) params.push_back(type_of(dtype_of_buffer(k), c)->getPointerTo());
  params.push_back(i64);
  params.push_back(i64);
  params.push_back(i64);
  auto* body_fn = llvm::Function::Create(llvm::FunctionType::get(llvm::Type::getVoidTy(c), params, false),
                                         llvm::Function::InternalLinkage, name + "_body", m);
  body_fn->addFnAttr(llvm::Attribute::NoUnwind);
  body_fn->addFnAttr(llvm::Attribute::AlwaysInline);
  for (size_t k = 0; k < nbuf; ++k) {
    body_fn->addParamAttr(static_cast<unsigned>(k), llvm::Attribute::NoAlias);
    if (k < nin) body_fn->addParamAttr(static_cast<unsigned>(k), llvm::Attribute::ReadOnly);
  }
  auto arg = [&](size_t k) { return body_fn->getArg(static_cast<unsigned>(k)); };
  llvm::Value *begin = arg(nbuf), *end = arg(nbuf + 1), *cols = arg(nbuf + 2);
  using Access = KernelSpec::Access;
  auto* entry = llvm::BasicBlock::Create(c, "entry", body_fn);
  auto* exit = llvm::BasicBlock::Create(c, "exit", body_fn);
  llvm::IRBuilder<> b(entry);
  auto load = [&](size_t k, llvm::Value* index) {
    llvm::Type* t = type_of(spec.inputs[k].dtype, c);
    return b.CreateLoad(t, b.CreateInBoundsGEP(t, arg(k), index));
  };
  std::vector<llvm::Value*> fixed(nin, nullptr);  // inputs read once: scalars, then rows per row
  for (size_t k = 0; k < nin; ++k)
    if (spec.inputs[k].access == Access::scalar) fixed[k] = load(k, llvm::ConstantInt::get(i64, 0));
  // The element loop over [first, last) at `base` + index; row and col give the
  // broadcast inputs' indices.
  auto element_loop = [&](llvm::Value* first, llvm::Value* last, llvm::Value* base, llvm::BasicBlock* after) {
    auto* loop = llvm::BasicBlock::Create(c, "loop", body_fn);
    llvm::BasicBlock* from = b.GetInsertBlock();
    b.CreateCondBr(b.CreateICmpSLT(first, last), loop, after);
    b.SetInsertPoint(loop);
    llvm::PHINode* j = b.CreatePHI(i64, 2);
    j->addIncoming(first, from);
    llvm::Value* index = base ? b.CreateAdd(base, j, "", true, true) : j;
    std::vector<llvm::Value*> v;
    for (const KernelSpec::Instr& ins : spec.code) {
      if (ins.op == Op::Parameter) {
        size_t k = static_cast<size_t>(ins.input);
        Access a = spec.inputs[k].access;
        v.push_back(fixed[k] ? fixed[k] : load(k, a == Access::col ? j : index));
        continue;
      }
      std::vector<llvm::Value*> args;
      for (int o : ins.operands) args.push_back(v[static_cast<size_t>(o)]);
      v.push_back(emit_op(b, m, ins.op, ins.dtype, args));
    }
    for (size_t k = 0; k < spec.outputs.size(); ++k) {
      llvm::Value* val = v[static_cast<size_t>(spec.outputs[k])];
      b.CreateStore(val, b.CreateInBoundsGEP(val->getType(), arg(nin + k), index));
    }
    llvm::Value* next = b.CreateAdd(j, llvm::ConstantInt::get(i64, 1), "", true, true);
    j->addIncoming(next, b.GetInsertBlock());
    b.CreateCondBr(b.CreateICmpSLT(next, last), loop, after);
  };
  if (!spec.two_d) {
    element_loop(begin, end, nullptr, exit);
  } else {  // rows [begin, end) of cols elements each
    auto* rows = llvm::BasicBlock::Create(c, "rows", body_fn);
    auto* latch = llvm::BasicBlock::Create(c, "row_done", body_fn);
    b.CreateCondBr(b.CreateICmpSLT(begin, end), rows, exit);
    b.SetInsertPoint(rows);
    llvm::PHINode* r = b.CreatePHI(i64, 2);
    r->addIncoming(begin, entry);
    for (size_t k = 0; k < nin; ++k)
      if (spec.inputs[k].access == Access::row) fixed[k] = load(k, r);
    element_loop(llvm::ConstantInt::get(i64, 0), cols, b.CreateMul(r, cols, "", true, true), latch);
    b.SetInsertPoint(latch);
    llvm::Value* next = b.CreateAdd(r, llvm::ConstantInt::get(i64, 1), "", true, true);
    r->addIncoming(next, latch);
    b.CreateCondBr(b.CreateICmpSLT(next, end), rows, exit);
  }
  b.SetInsertPoint(exit);
  b.CreateRetVoid();

  auto* fn = llvm::Function::Create(
      llvm::FunctionType::get(llvm::Type::getVoidTy(c), {ptr->getPointerTo(), i64, i64, i64}, false),
      llvm::Function::ExternalLinkage, name, m);
  fn->addFnAttr(llvm::Attribute::NoUnwind);
  b.SetInsertPoint(llvm::BasicBlock::Create(c, "entry", fn));
  std::vector<llvm::Value*> args;
  for (size_t k = 0; k < nbuf; ++k) {
    llvm::Value* p = b.CreateLoad(ptr, b.CreateConstInBoundsGEP1_64(ptr, fn->getArg(0), k));
    args.push_back(b.CreateBitCast(p, params[k]));
  }
  for (unsigned k = 1; k <= 3; ++k) args.push_back(fn->getArg(k));
  b.CreateCall(body_fn, args);
  b.CreateRetVoid();
  std::string problems;
  llvm::raw_string_ostream os(problems);
  if (llvm::verifyModule(m, &os)) throw Error("llvm", "emitted an invalid kernel: " + os.str());
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

// NX_LLVM_DUMP=dir writes each kernel's optimised IR to dir/<kernel>.ll, headed by its spec.
void dump(const llvm::Module& m, const std::string& name, const std::string& key) {
  const char* dir = std::getenv("NX_LLVM_DUMP");
  if (!dir || !*dir) return;
  std::error_code ec;
  llvm::raw_fd_ostream out(std::string(dir) + "/" + name + ".ll", ec);
  if (ec) throw Error("llvm", "NX_LLVM_DUMP: cannot write to " + std::string(dir) + ": " + ec.message());
  out << "; nx kernel spec: " << key << "\n";
  m.print(out, nullptr);
}

}  // namespace

std::string KernelSpec::key() const {
  std::string k;
  k += two_d ? "2d|" : "1d|";
  for (const Input& in : inputs) k += std::string(name(in.dtype)) + "fsrc"[static_cast<int>(in.access)] + ',';
  k += '|';
  for (const Instr& ins : code) {
    k += std::string(op_name(ins.op)) + ':' + std::string(name(ins.dtype)) + ':' + std::to_string(ins.input);
    for (int o : ins.operands) k += ',' + std::to_string(o);
    k += ';';
  }
  k += '|';
  for (int o : outputs) k += std::to_string(o) + ',';
  return k;
}

bool kernel_supports(Op op, DType result, std::span<const DType> operands) {
  auto is_float = [](DType t) { return t == DType::f32 || t == DType::f64; };
  auto all = [&](auto pred) { return std::all_of(operands.begin(), operands.end(), pred); };
  auto same_float = [&] { return is_float(result) && all([&](DType t) { return t == result; }); };
  switch (op) {
    case Op::Add: case Op::Subtract: case Op::Multiply: case Op::Divide: case Op::Negate:
    case Op::Abs: case Op::Sqrt: case Op::Max: case Op::Min: case Op::Exp: case Op::Log: case Op::Tanh:
    case Op::Sigmoid: return same_float();
    case Op::Equal: case Op::NotEqual: case Op::Less: case Op::LessEqual: case Op::Greater:
    case Op::GreaterEqual:
      return result == DType::bool_ && is_float(operands[0]) && operands[1] == operands[0];
    case Op::IsNan: case Op::IsInfinity: return result == DType::bool_ && is_float(operands[0]);
    case Op::Broadcast: return (is_float(result) || result == DType::bool_) && operands[0] == result;
    case Op::Select:
      return is_float(result) && operands[0] == DType::bool_ && operands[1] == result && operands[2] == result;
    case Op::AsType:
      return (is_float(result) || result == DType::bool_) && (is_float(operands[0]) || operands[0] == DType::bool_);
    default: return false;
  }
}

KernelFn compile_kernel(const KernelSpec& spec) {
  Engine& e = engine();
  std::string key = spec.key();
  std::lock_guard lock(e.mu);
  if (auto it = e.kernels.find(key); it != e.kernels.end()) return it->second;
  std::string name = "nx_kernel_" + std::to_string(e.next_id++);
  auto context = std::make_unique<llvm::LLVMContext>();
  auto module = std::make_unique<llvm::Module>(name, *context);
  module->setDataLayout(e.tm->createDataLayout());
  module->setTargetTriple(e.tm->getTargetTriple().str());
  Clock::time_point t0 = Clock::now();
  emit(spec, name, *module);
  double emit_ms = ms_since(t0);
  t0 = Clock::now();
  optimize(*module, *e.tm);
  double optimize_ms = ms_since(t0);
  dump(*module, name, key);
  t0 = Clock::now();
  if (auto err = e.jit->addIRModule(llvm::orc::ThreadSafeModule(std::move(module), std::move(context))))
    throw Error("llvm", "adding a kernel: " + llvm::toString(std::move(err)));
  auto symbol = checked(e.jit->lookup(name), "compiling a kernel");  // machine code is generated here
  auto fn = reinterpret_cast<KernelFn>(symbol.getAddress());
  e.total.emit_ms += emit_ms;
  e.total.optimize_ms += optimize_ms;
  e.total.codegen_ms += ms_since(t0);
  e.kernels.emplace(std::move(key), fn);
  return fn;
}

CompileTimes total_compile_times(int64_t* kernels) {
  Engine& e = engine();
  std::lock_guard lock(e.mu);
  *kernels = static_cast<int64_t>(e.kernels.size());
  return e.total;
}

}  // namespace nx::llvm_backend
