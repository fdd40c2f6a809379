// KernelSpec -> LLVM IR: the body function (one loop nest per pass over the iteration
// space, straight-line code inside) and the exported entry that unpacks the buffers.
// Floating-point semantics are IEEE (no fast-math), so arithmetic matches interp bit for
// bit; exp and tanh on f32 are inline polynomials, reductions reassociate in a fixed
// blocking. With kernel_compiler.cpp, the only files that include LLVM's headers.
#include "kernel_emit.hpp"

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/IntrinsicsX86.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Support/raw_ostream.h>

#include <algorithm>
#include <functional>
#include <unordered_map>

#include "nx/detail/fusion/index_map.hpp"
#include "nx/error.hpp"

namespace nx::llvm_backend {
namespace {

llvm::Type* type_of(DType t, llvm::LLVMContext& c) {
  if (t == DType::bool_) return llvm::Type::getInt8Ty(c);  // one byte, 0 or 1
  return t == DType::f64 ? llvm::Type::getDoubleTy(c) : llvm::Type::getFloatTy(c);
}

// x P(x^2) / Q(x^2) on x clamped to +-clamp, coefficients highest degree first; the
// multiply-adds may fuse (FMA) inside the approximation only. NaN passes through the
// clamps (comparisons with it are false) and the polynomials. Vectorises fully.
llvm::Value* odd_rational(llvm::IRBuilder<>& b, llvm::Module& m, llvm::Value* x0, double clamp,
                          std::initializer_list<double> p, std::initializer_list<double> q) {
  llvm::Type* t = x0->getType();
  auto k = [&](double v) { return llvm::ConstantFP::get(t, v); };
  llvm::Value* x = b.CreateSelect(b.CreateFCmpOGT(x0, k(clamp)), k(clamp), x0);
  x = b.CreateSelect(b.CreateFCmpOLT(x, k(-clamp)), k(-clamp), x);
  llvm::Value* x2 = b.CreateFMul(x, x);
  auto horner = [&](std::initializer_list<double> coefficients) {
    llvm::Value* acc = nullptr;
    for (double c : coefficients)
      acc = acc ? static_cast<llvm::Value*>(b.CreateCall(llvm::Intrinsic::getDeclaration(&m, llvm::Intrinsic::fmuladd, {t}), {acc, x2, k(c)})) : k(c);
    return acc;
  };
  return b.CreateFDiv(b.CreateFMul(x, horner(p)), horner(q));
}

// tanh on f32 with Eigen's coefficients (odd degree 13 over even degree 6) on x clamped
// to +-7.9053, where it reaches +-1. Near 0, p/q is x times 0.99999987 (about an ulp),
// so no select for small x.
llvm::Value* tanh_f32(llvm::IRBuilder<>& b, llvm::Module& m, llvm::Value* x) {
  return odd_rational(b, m, x, 7.90531110763549805,
                      {-2.76076847742355e-16, 2.00018790482477e-13, -8.60467152213735e-11, 5.12229709037114e-08,
                       1.48572235717979e-05, 6.37261928875436e-04, 4.89352455891786e-03},
                      {1.19825839466702e-06, 1.18534705686654e-04, 2.26843463243900e-03, 4.89352518554385e-03});
}

// erf on f32 with Eigen's coefficients (odd degree 13 over even degree 8) on x clamped
// to +-4, where erf rounds to +-1. Within 3 ulp of libm's erff; erf(-0) = -0.
llvm::Value* erf_f32(llvm::IRBuilder<>& b, llvm::Module& m, llvm::Value* x) {
  return odd_rational(b, m, x, 4.0,
                      {-2.72614225801306e-10, 2.77068142495902e-08, -2.10102402082508e-06, -5.69250639462346e-05,
                       -7.34990630326855e-04, -2.95459980854025e-03, -1.60960333262415e-02},
                      {-1.45660718464996e-05, -2.13374055278905e-04, -1.68282697438203e-03, -7.37332916720468e-03,
                       -1.42647390514189e-02});
}

// exp on f32 as Cephes does it: x clamped to [-104, 89] (beyond, the result is 0 or
// inf), n = round(x log2 e), r = x - n ln 2 in two parts, a degree-7 polynomial p(r),
// times 2^n applied as two factors 2^(n/2) 2^(n - n/2), each a normal float, so the
// product overflows to inf, rounds into the subnormals and underflows to 0 exactly as
// exp does. About 1 ulp; no selects: NaN passes through the clamps and the polynomial
// (the integer part of NaN is frozen, then multiplied by NaN). Vectorises fully.
llvm::Value* exp_f32(llvm::IRBuilder<>& b, llvm::Module& m, llvm::Value* x0) {
  llvm::Type* t = x0->getType();
  llvm::Type* i32 = b.getInt32Ty();
  if (auto* v = llvm::dyn_cast<llvm::VectorType>(t)) i32 = llvm::VectorType::get(i32, v->getElementCount());
  auto k = [&](double v) { return llvm::ConstantFP::get(t, v); };
  auto ki = [&](int v) { return llvm::ConstantInt::get(i32, static_cast<uint64_t>(static_cast<int64_t>(v)), true); };
  auto fma = [&](llvm::Value* a, llvm::Value* c, llvm::Value* d) {
    return b.CreateCall(llvm::Intrinsic::getDeclaration(&m, llvm::Intrinsic::fmuladd, {t}), {a, c, d});
  };
  llvm::Value* x = b.CreateSelect(b.CreateFCmpOGT(x0, k(89.0)), k(89.0), x0);
  x = b.CreateSelect(b.CreateFCmpOLT(x, k(-104.0)), k(-104.0), x);
  llvm::Value* n = b.CreateCall(llvm::Intrinsic::getDeclaration(&m, llvm::Intrinsic::rint, {t}), {b.CreateFMul(x, k(1.44269504088896341))});
  llvm::Value* r = fma(b.CreateFNeg(n), k(0.693359375), x);
  r = fma(b.CreateFNeg(n), k(-2.12194440e-4), r);
  llvm::Value* p = k(1.9875691500E-4);
  for (double c : {1.3981999507E-3, 8.3334519073E-3, 4.1665795894E-2, 1.6666665459E-1, 5.0000001201E-1}) p = fma(p, r, k(c));
  llvm::Value* y = fma(b.CreateFMul(p, r), r, b.CreateFAdd(r, k(1.0)));
  llvm::Value* ni = b.CreateFreeze(b.CreateFPToSI(n, i32));
  llvm::Value* n1 = b.CreateAShr(ni, ki(1));
  auto pow2 = [&](llvm::Value* e) { return b.CreateBitCast(b.CreateShl(b.CreateAdd(e, ki(127)), ki(23)), t); };
  return b.CreateFMul(b.CreateFMul(y, pow2(n1)), pow2(b.CreateSub(ni, n1)));
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
    std::vector<llvm::Type*> params(a.size(), t);
    llvm::FunctionCallee f = m.getOrInsertFunction(t->isDoubleTy() ? f64_name : f32_name, llvm::FunctionType::get(t, params, false));
    auto* decl = llvm::cast<llvm::Function>(f.getCallee());
    decl->setDoesNotAccessMemory();
    decl->setDoesNotThrow();
    decl->addFnAttr(llvm::Attribute::WillReturn);
    return b.CreateCall(f, a);
  };
  auto bit = [&](llvm::Value* byte) { return b.CreateICmpNE(byte, llvm::ConstantInt::get(byte->getType(), 0)); };
  switch (op) {
    case Op::Add: return b.CreateFAdd(a[0], a[1]);
    case Op::Subtract: return b.CreateFSub(a[0], a[1]);
    case Op::Multiply: return b.CreateFMul(a[0], a[1]);
    case Op::Divide: return b.CreateFDiv(a[0], a[1]);
    case Op::Negate: return b.CreateFNeg(a[0]);
    case Op::Abs: return intrinsic(llvm::Intrinsic::fabs);
    case Op::Sqrt: return intrinsic(llvm::Intrinsic::sqrt);
    case Op::Exp: return a[0]->getType()->isFloatTy() ? exp_f32(b, m, a[0]) : intrinsic(llvm::Intrinsic::exp);
    case Op::Log: return intrinsic(llvm::Intrinsic::log);
    case Op::Tanh: return a[0]->getType()->isFloatTy() ? tanh_f32(b, m, a[0]) : libm("tanhf", "tanh");
    case Op::Erf: return a[0]->getType()->isFloatTy() ? erf_f32(b, m, a[0]) : libm("erff", "erf");
    case Op::Floor: return intrinsic(llvm::Intrinsic::floor);
    case Op::Ceil: return intrinsic(llvm::Intrinsic::ceil);
    case Op::Round: return intrinsic(llvm::Intrinsic::round);  // half away from zero
    case Op::Rsqrt: return b.CreateFDiv(llvm::ConstantFP::get(a[0]->getType(), 1.0), intrinsic(llvm::Intrinsic::sqrt));
    case Op::Sign: {  // +-1, and x itself for +-0 and NaN
      llvm::Type* t = a[0]->getType();
      llvm::Value* r = b.CreateSelect(b.CreateFCmpOLT(a[0], llvm::ConstantFP::get(t, 0.0)), llvm::ConstantFP::get(t, -1.0), a[0]);
      return b.CreateSelect(b.CreateFCmpOGT(a[0], llvm::ConstantFP::get(t, 0.0)), llvm::ConstantFP::get(t, 1.0), r);
    }
    case Op::Sin: return libm("sinf", "sin");
    case Op::Cos: return libm("cosf", "cos");
    case Op::Log1p: return libm("log1pf", "log1p");
    case Op::Expm1: return libm("expm1f", "expm1");
    case Op::Pow: return libm("powf", "pow");
    case Op::LogicalNot: return to_bool(b.CreateNot(bit(a[0])));
    case Op::LogicalAnd: return to_bool(b.CreateAnd(bit(a[0]), bit(a[1])));
    case Op::LogicalOr: return to_bool(b.CreateOr(bit(a[0]), bit(a[1])));
    case Op::LogicalXor: return to_bool(b.CreateXor(bit(a[0]), bit(a[1])));
    case Op::Sigmoid: {  // stable on both tails, as interp: e = exp(-|x|)
      llvm::Value* one = llvm::ConstantFP::get(a[0]->getType(), 1.0);
      llvm::Value* minus_abs = b.CreateFNeg(intrinsic(llvm::Intrinsic::fabs));
      llvm::Value* e = a[0]->getType()->isFloatTy() ? exp_f32(b, m, minus_abs) : intrinsic_of(llvm::Intrinsic::exp, minus_abs);
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

// Emits a kernel's body function. Each instruction has a space and a pass: the pass over
// the row that can first compute it (a reduction's result is ready in the pass after its
// operand's). Elementwise, cols and all kernels have one pass; rows kernels one pass per
// reduction depth. A full value that a later pass reads is kept (in its output, or in a
// row-sized stack buffer) instead of recomputed.
class BodyEmitter {
 public:
  BodyEmitter(const KernelSpec& spec, llvm::Module& m, llvm::Function* fn)
      : spec_(spec), m_(m), c_(m.getContext()), b_(c_), fn_(fn), nin_(spec.inputs.size()),
        i64_(llvm::Type::getInt64Ty(c_)) {
    size_t n = spec.code.size();
    Passes p = passes_of(spec, "llvm");
    space_ = std::move(p.space);
    pass_ = std::move(p.pass);
    passes_ = p.count;
    now_.assign(n, nullptr);
    slot_.assign(n, nullptr);
    in_output_.assign(n, false);
    for (size_t k = 0; k < spec.outputs.size(); ++k) output_of_[spec.outputs[k]] = k;
  }

  void emit() {
    auto* entry = llvm::BasicBlock::Create(c_, "entry", fn_);
    b_.SetInsertPoint(entry);
    llvm::Value *begin = arg(nbuf()), *end = arg(nbuf() + 1), *rows = arg(nbuf() + 2), *cols = arg(nbuf() + 3);
    compute_rowwise(Space::scalar, 0, nullptr);
    llvm::Value* zero = llvm::ConstantInt::get(i64_, 0);
    switch (spec_.mode) {
      case Mode::elementwise:
        if (!spec_.two_d) {
          pass(0, [&](llvm::Value* j) { return std::pair{j, j}; }, begin, end);
          break;
        }
        [[fallthrough]];
      case Mode::rows:
        plan_scratch(cols);
        loop(begin, end, {}, [&](llvm::Value* r) {
          for (int p = 0; p <= passes_; ++p) {
            compute_rowwise(Space::row, p, r);
            if (p < passes_)
              pass(p, [&](llvm::Value* j) { return std::pair{add(mul(r, cols), j), j}; }, zero, cols);
          }
          store_rowwise(r);
        });
        break;
      case Mode::cols: {
        for (size_t i = 0; i < spec_.code.size(); ++i)  // results accumulate in their outputs
          if (is_reduction(spec_.code[i].op))
            loop(begin, end, {}, [&](llvm::Value* j) { b_.CreateStore(identity(i), out_at(i, j)); });
        loop(zero, rows, {}, [&](llvm::Value* r) {
          compute_rowwise(Space::row, 0, r);
          pass(0, [&](llvm::Value* j) { return std::pair{add(mul(r, cols), j), j}; }, begin, end);
        });
        break;
      }
      case Mode::all:
        loop(begin, end, {}, [&](llvm::Value* blk) {
          llvm::Value* lo = mul(blk, llvm::ConstantInt::get(i64_, kReduceBlock));
          llvm::Value* hi = add(lo, llvm::ConstantInt::get(i64_, kReduceBlock));
          hi = b_.CreateSelect(b_.CreateICmpSLT(hi, cols), hi, cols);
          pass(0, [&](llvm::Value* j) { return std::pair{j, j}; }, lo, hi);
          for (size_t i = 0; i < spec_.code.size(); ++i)
            if (is_reduction(spec_.code[i].op)) b_.CreateStore(now_[i], out_at(i, blk));
        });
        break;
    }
    // A streaming kernel's vector stores become non-temporal after optimisation
    // (kernel_compiler.cpp); order them before the caller's signal that the range is done.
    if (spec_.stream && llvm::Triple(m_.getTargetTriple()).isX86())
      b_.CreateCall(llvm::Intrinsic::getDeclaration(&m_, llvm::Intrinsic::x86_sse_sfence));
    b_.CreateRetVoid();
  }

 private:
  using Access = KernelSpec::Access;
  // A loop-carried value of an element loop.
  struct Acc {
    llvm::Value* init;
    llvm::Value* next = nullptr;   // set by the body
    llvm::PHINode* phi = nullptr;  // inside the loop
    llvm::Value* result = nullptr; // after it
  };

  size_t nbuf() const { return nin_ + spec_.outputs.size(); }
  llvm::Argument* arg(size_t k) { return fn_->getArg(static_cast<unsigned>(k)); }
  llvm::Value* add(llvm::Value* x, llvm::Value* y) { return b_.CreateAdd(x, y, "", true, true); }
  llvm::Value* mul(llvm::Value* x, llvm::Value* y) { return b_.CreateMul(x, y, "", true, true); }
  llvm::Type* type(size_t i) { return type_of(spec_.code[i].dtype, c_); }
  llvm::Value* at(llvm::Value* base, llvm::Type* t, llvm::Value* index) { return b_.CreateInBoundsGEP(t, base, index); }
  llvm::Value* out_at(size_t i, llvm::Value* index) { return at(arg(nin_ + output_of_.at(static_cast<int>(i))), type(i), index); }
  llvm::Value* input_at(size_t k, llvm::Value* index) {
    return b_.CreateLoad(type_of(spec_.inputs[k].dtype, c_), at(arg(k), type_of(spec_.inputs[k].dtype, c_), index));
  }
  bool is_output(size_t i) const { return output_of_.count(static_cast<int>(i)) > 0; }

  // maps[k] at the element: (the offset as i64, whether it is in bounds; null: always).
  // In 32-bit arithmetic when every index and offset fits (vector division by a
  // constant is cheap there); out-of-bounds offsets may wrap: they are never used.
  std::pair<llvm::Value*, llvm::Value*> map_at(int k, llvm::Value* element) {
    const IndexMap& m = spec_.maps[static_cast<size_t>(k)];
    bool narrow = fits_32_bits(m);
    llvm::Type* t = narrow ? b_.getInt32Ty() : i64_;
    auto k_of = [&](int64_t x) { return llvm::ConstantInt::get(t, static_cast<uint64_t>(x), true); };
    llvm::Value* f = narrow ? b_.CreateTrunc(element, t) : element;
    llvm::Value* valid = nullptr;
    for (const View& v : m) {
      llvm::Value* off = k_of(v.offset);
      int64_t inner = 1;
      for (size_t d = v.shape.size(); d-- > 0; inner *= v.shape[d]) {
        bool masked = v.lo[d] > 0 || v.hi[d] < v.shape[d];
        if (v.strides[d] == 0 && !masked) continue;
        llvm::Value* idx = inner == 1 ? f : b_.CreateUDiv(f, k_of(inner));
        if (d > 0) idx = b_.CreateURem(idx, k_of(v.shape[d]));
        if (v.strides[d] != 0) off = b_.CreateAdd(off, b_.CreateMul(idx, k_of(v.strides[d])));
        if (masked) {
          llvm::Value* in = v.hi[d] <= v.lo[d] ? b_.getFalse()
                                               : b_.CreateICmpULT(b_.CreateSub(idx, k_of(v.lo[d])), k_of(v.hi[d] - v.lo[d]));
          valid = valid ? b_.CreateAnd(valid, in) : in;
        }
      }
      f = off;
    }
    return {narrow ? b_.CreateSExt(f, i64_) : f, valid};
  }

  // for (j = first; j < last; ++j) body(j), with `accs` carried from one j to the next.
  void loop(llvm::Value* first, llvm::Value* last, std::vector<Acc*> accs, const std::function<void(llvm::Value*)>& body) {
    llvm::BasicBlock* pre = b_.GetInsertBlock();
    auto* head = llvm::BasicBlock::Create(c_, "loop", fn_);
    auto* after = llvm::BasicBlock::Create(c_, "after", fn_);
    b_.CreateCondBr(b_.CreateICmpSLT(first, last), head, after);
    b_.SetInsertPoint(head);
    llvm::PHINode* j = b_.CreatePHI(i64_, 2);
    j->addIncoming(first, pre);
    for (Acc* a : accs) (a->phi = b_.CreatePHI(a->init->getType(), 2))->addIncoming(a->init, pre);
    body(j);
    llvm::Value* next = add(j, llvm::ConstantInt::get(i64_, 1));
    llvm::BasicBlock* latch = b_.GetInsertBlock();
    j->addIncoming(next, latch);
    for (Acc* a : accs) a->phi->addIncoming(a->next, latch);
    b_.CreateCondBr(b_.CreateICmpSLT(next, last), head, after);
    b_.SetInsertPoint(after);
    for (Acc* a : accs) {
      llvm::PHINode* r = b_.CreatePHI(a->init->getType(), 2);
      r->addIncoming(a->init, pre);
      r->addIncoming(a->next, latch);
      a->result = r;
    }
  }

  // f32/f64 as same-width integers: the sign bit cleared, and +infinity.
  llvm::IntegerType* bits_of(size_t i) { return b_.getIntNTy(static_cast<unsigned>(type(i)->getPrimitiveSizeInBits())); }
  llvm::Value* sign_clear(size_t i) { return llvm::ConstantInt::get(bits_of(i), llvm::APInt::getSignedMaxValue(bits_of(i)->getBitWidth())); }
  llvm::Value* inf_bits(size_t i) {
    return llvm::ConstantInt::get(bits_of(i), llvm::APFloat::getInf(type(i)->getFltSemantics()).bitcastToAPInt());
  }

  llvm::Value* identity(size_t i) {
    llvm::Type* t = type(i);
    switch (spec_.code[i].op) {
      case Op::Sum: return llvm::ConstantFP::get(t, 0.0);
      case Op::ReduceMax: return llvm::ConstantFP::getInfinity(t, true);
      default: return llvm::ConstantFP::getInfinity(t, false);
    }
  }

  // The scalar (space == scalar) or per-row values ready at pass p, in order; row r's
  // inputs are loaded at pass 0.
  void compute_rowwise(Space space, int p, llvm::Value* r) {
    for (size_t i = 0; i < spec_.code.size(); ++i) {
      const KernelSpec::Instr& ins = spec_.code[i];
      if (space_[i] != space || pass_[i] != p || is_reduction(ins.op)) continue;
      if (ins.op == Op::Parameter) {
        now_[i] = input_at(static_cast<size_t>(ins.input), space == Space::row ? r : llvm::ConstantInt::get(i64_, 0));
        continue;
      }
      std::vector<llvm::Value*> args;
      for (int o : ins.operands) args.push_back(now_[static_cast<size_t>(o)]);
      now_[i] = emit_op(b_, m_, ins.op, ins.dtype, args);
    }
  }

  void store_rowwise(llvm::Value* r) {
    for (size_t i = 0; i < spec_.code.size(); ++i)
      if (space_[i] == Space::row && is_output(i)) b_.CreateStore(now_[i], out_at(i, r));
  }

  // Full values read by a later pass than their own are kept: in their output; else in
  // the output of a value of the same type written no earlier than the last pass that
  // reads them (softmax's exp(x - max) in the quotient's output, re-read from cache and
  // overwritten in place, as a hand-written loop does); else in a stack buffer of `cols`
  // elements (up to four, short rows only); else recomputed.
  void plan_scratch(llvm::Value* cols) {
    size_t n = spec_.code.size();
    std::vector<bool> lent(n, false);
    int buffers = 0;
    for (size_t i = 0; i < n; ++i) {
      if (space_[i] != Space::full || spec_.code[i].op == Op::Parameter) continue;
      int last = -1;
      for (size_t j = i + 1; j < n; ++j)
        for (int o : spec_.code[j].operands)
          if (static_cast<size_t>(o) == i && space_[j] == Space::full && pass_[j] > pass_[i]) last = std::max(last, pass_[j]);
      if (last < 0) continue;
      if (is_output(i) && !spec_.stream) {  // streamed outputs bypass the cache: not re-read
        slot_[i] = arg(nin_ + output_of_.at(static_cast<int>(i)));
        in_output_[i] = true;
        continue;
      }
      for (size_t o = i + 1; o < n && !slot_[i] && !spec_.stream; ++o)
        if (is_output(o) && !lent[o] && space_[o] == Space::full && pass_[o] >= last && spec_.code[o].dtype == spec_.code[i].dtype) {
          lent[o] = true;
          slot_[i] = arg(nin_ + output_of_.at(static_cast<int>(o)));
          in_output_[i] = true;
        }
      if (!slot_[i] && spec_.scratch && buffers < 4) {
        auto* buffer = b_.CreateAlloca(type(i), cols);
        buffer->setAlignment(llvm::Align(64));
        slot_[i] = buffer, ++buffers;
      }
    }
  }

  // Pass p over the elements [first, last): index(j) gives (element index, column index);
  // the pass's full outputs are stored and its reductions accumulated (in registers, or
  // in their outputs for cols kernels).
  void pass(int p, const std::function<std::pair<llvm::Value*, llvm::Value*>(llvm::Value*)>& index, llvm::Value* first,
            llvm::Value* last) {
    size_t n = spec_.code.size();
    std::vector<bool> need(n, false);
    auto kept = [&](size_t i) { return slot_[i] && pass_[i] < p; };
    for (size_t i = n; i-- > 0;) {
      const KernelSpec::Instr& ins = spec_.code[i];
      bool root = space_[i] == Space::full && pass_[i] == p && (is_output(i) || slot_[i]);
      if (is_reduction(ins.op) && pass_[static_cast<size_t>(ins.operands[0])] == p) root = true;
      if (!root && !need[i]) continue;
      need[i] = true;
      for (int o : ins.operands)
        if (space_[static_cast<size_t>(o)] == Space::full && !kept(static_cast<size_t>(o))) need[static_cast<size_t>(o)] = true;
    }
    // Register accumulators of rows and all kernels: sums reassociate (the vectorizer
    // keeps a partial sum per lane; the blocking is fixed, so results do not depend on
    // threads); max/min take maxnum/minnum over non-NaN values plus a NaN flag.
    bool in_memory = spec_.mode == Mode::cols;
    std::vector<Acc> accs(2 * n);
    std::vector<Acc*> carried;
    for (size_t i = 0; i < n; ++i) {
      if (in_memory || !is_reduction(spec_.code[i].op) || !need[i]) continue;
      accs[2 * i].init = identity(i);
      carried.push_back(&accs[2 * i]);
      if (spec_.code[i].op != Op::Sum) {
        accs[2 * i + 1].init = llvm::ConstantInt::get(bits_of(i), 0);
        carried.push_back(&accs[2 * i + 1]);
      }
    }
    loop(first, last, carried, [&](llvm::Value* j) {
      auto [element, column] = index(j);
      std::vector<llvm::Value*> v(n, nullptr);
      auto value = [&](int o) {
        size_t k = static_cast<size_t>(o);
        if (space_[k] != Space::full) return now_[k];
        if (!v[k] && kept(k)) v[k] = b_.CreateLoad(type(k), at(slot_[k], type(k), in_output_[k] ? element : column));
        return v[k];
      };
      for (size_t i = 0; i < n; ++i) {
        if (!need[i]) continue;
        const KernelSpec::Instr& ins = spec_.code[i];
        if (ins.map >= 0) {
          auto [offset, valid] = map_at(ins.map, element);
          if (ins.op == Op::Parameter) {
            if (valid) offset = b_.CreateSelect(valid, offset, llvm::ConstantInt::get(i64_, 0));
            v[i] = input_at(static_cast<size_t>(ins.input), offset);
          } else if (ins.op == Op::Iota) {
            v[i] = b_.CreateSIToFP(offset, type(i));
          } else {  // Pad
            v[i] = valid ? b_.CreateSelect(valid, value(ins.operands[0]), value(ins.operands[1])) : value(ins.operands[0]);
          }
          continue;
        }
        if (ins.op == Op::Parameter) {
          if (space_[i] == Space::full)
            v[i] = input_at(static_cast<size_t>(ins.input), spec_.inputs[static_cast<size_t>(ins.input)].access == Access::col ? column : element);
          continue;
        }
        if (is_reduction(ins.op)) {
          llvm::Value* x = value(ins.operands[0]);
          if (in_memory) {
            llvm::Value* p_acc = out_at(i, column);
            llvm::Value* acc = b_.CreateLoad(type(i), p_acc);
            llvm::Value* r = ins.op == Op::Sum ? b_.CreateFAdd(acc, x)
                                               : emit_op(b_, m_, ins.op == Op::ReduceMax ? Op::Max : Op::Min, ins.dtype, {x, acc});
            b_.CreateStore(r, p_acc);
          } else if (ins.op == Op::Sum) {
            auto* s = llvm::cast<llvm::Instruction>(b_.CreateFAdd(accs[2 * i].phi, x));
            s->setHasAllowReassoc(true);
            accs[2 * i].next = s;
          } else {
            llvm::Value* nan = b_.CreateFCmpUNO(x, x);
            llvm::Value* clean = b_.CreateSelect(nan, identity(i), x);
            auto* mm = b_.CreateCall(llvm::Intrinsic::getDeclaration(&m_, ins.op == Op::ReduceMax ? llvm::Intrinsic::maxnum : llvm::Intrinsic::minnum, {type(i)}),
                                     {accs[2 * i].phi, clean});
            llvm::FastMathFlags f;
            f.setNoNaNs();
            f.setNoSignedZeros();
            mm->setFastMathFlags(f);
            accs[2 * i].next = mm;
            // The NaN flag: the largest |x| as integer bits (NaNs lie above infinity's), an
            // integer max reduction the vectorizer handles in one instruction per vector.
            llvm::Value* mag = b_.CreateAnd(b_.CreateBitCast(x, bits_of(i)), sign_clear(i));
            llvm::Value* prev = accs[2 * i + 1].phi;
            accs[2 * i + 1].next = b_.CreateSelect(b_.CreateICmpSGT(mag, prev), mag, prev);
          }
          continue;
        }
        std::vector<llvm::Value*> args;
        for (int o : ins.operands) args.push_back(value(o));
        v[i] = emit_op(b_, m_, ins.op, ins.dtype, args);
      }
      for (size_t i = 0; i < n; ++i) {
        if (!need[i] || space_[i] != Space::full || pass_[i] != p || ins_is_param(i)) continue;
        bool own = is_output(i) && slot_[i] == arg(nin_ + output_of_.at(static_cast<int>(i)));
        if (is_output(i)) b_.CreateStore(v[i], out_at(i, element));
        if (slot_[i] && !own) b_.CreateStore(v[i], at(slot_[i], type(i), in_output_[i] ? element : column));
      }
    });
    for (size_t i = 0; i < n; ++i) {
      if (in_memory || !is_reduction(spec_.code[i].op) || !need[i]) continue;
      now_[i] = spec_.code[i].op == Op::Sum
                    ? accs[2 * i].result
                    : b_.CreateSelect(b_.CreateICmpUGT(accs[2 * i + 1].result, inf_bits(i)), llvm::ConstantFP::getNaN(type(i)),
                                      accs[2 * i].result);
    }
  }
  bool ins_is_param(size_t i) const { return spec_.code[i].op == Op::Parameter; }

  const KernelSpec& spec_;
  llvm::Module& m_;
  llvm::LLVMContext& c_;
  llvm::IRBuilder<> b_;
  llvm::Function* fn_;
  size_t nin_;
  llvm::Type* i64_;
  std::vector<Space> space_;
  std::vector<int> pass_;
  int passes_ = 1;
  std::vector<llvm::Value*> now_;   // scalar and per-row values, as far as computed
  std::vector<llvm::Value*> slot_;  // where a full value read by a later pass is kept
  std::vector<bool> in_output_;     // that slot is an output (indexed like it), not a row buffer
  std::unordered_map<int, size_t> output_of_;
};

// The body function takes every buffer as a noalias argument (inputs are only read,
// outputs are fresh), so the vectorizer needs no runtime overlap checks; the exported
// kernel(void* const* buffers, i64 begin, i64 end, i64 rows, i64 cols) unpacks the
// buffers and calls it (inlined).
}  // namespace

void emit_kernel(const KernelSpec& spec, const std::string& name, llvm::Module& m) {
  llvm::LLVMContext& c = m.getContext();
  llvm::Type *i64 = llvm::Type::getInt64Ty(c), *ptr = llvm::Type::getInt8PtrTy(c);
  size_t nin = spec.inputs.size(), nbuf = nin + spec.outputs.size();
  auto dtype_of_buffer = [&](size_t k) {
    return k < nin ? spec.inputs[k].dtype : spec.code[static_cast<size_t>(spec.outputs[k - nin])].dtype;
  };
  std::vector<llvm::Type*> params;
  for (size_t k = 0; k < nbuf; ++k) params.push_back(type_of(dtype_of_buffer(k), c)->getPointerTo());
  for (int k = 0; k < 4; ++k) params.push_back(i64);
  auto* body_fn = llvm::Function::Create(llvm::FunctionType::get(llvm::Type::getVoidTy(c), params, false),
                                         llvm::Function::InternalLinkage, name + "_body", m);
  body_fn->addFnAttr(llvm::Attribute::NoUnwind);
  body_fn->addFnAttr(llvm::Attribute::AlwaysInline);
  for (size_t k = 0; k < nbuf; ++k) {
    body_fn->addParamAttr(static_cast<unsigned>(k), llvm::Attribute::NoAlias);
    if (k < nin) body_fn->addParamAttr(static_cast<unsigned>(k), llvm::Attribute::ReadOnly);
  }
  BodyEmitter(spec, m, body_fn).emit();

  auto* fn = llvm::Function::Create(
      llvm::FunctionType::get(llvm::Type::getVoidTy(c), {ptr->getPointerTo(), i64, i64, i64, i64}, false),
      llvm::Function::ExternalLinkage, name, m);
  fn->addFnAttr(llvm::Attribute::NoUnwind);
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(c, "entry", fn));
  std::vector<llvm::Value*> args;
  for (size_t k = 0; k < nbuf; ++k) {
    llvm::Value* p = b.CreateLoad(ptr, b.CreateConstInBoundsGEP1_64(ptr, fn->getArg(0), k));
    args.push_back(b.CreateBitCast(p, params[k]));
  }
  for (unsigned k = 1; k <= 4; ++k) args.push_back(fn->getArg(k));
  b.CreateCall(body_fn, args);
  b.CreateRetVoid();
  std::string problems;
  llvm::raw_string_ostream os(problems);
  if (llvm::verifyModule(m, &os)) throw Error("llvm", "emitted an invalid kernel: " + os.str());
}


}  // namespace nx::llvm_backend
