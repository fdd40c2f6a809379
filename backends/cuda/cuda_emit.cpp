#include "cuda_emit.hpp"

#include <algorithm>
#include <sstream>
#include <unordered_map>

#include "launch_plan.hpp"
#include "nx/detail/fusion/index_map.hpp"
#include "nx/error.hpp"

namespace nx::cuda_backend {
namespace {

// Device helpers every kernel's source starts with. nx's semantics: max/min propagate
// NaN, comparisons with NaN are false except not_equal, bools are bytes 0/1, sigmoid is
// stable on both tails. No header is included: NVRTC compiles it alone.
constexpr const char* kPrelude = R"(#ifndef NX_PRELUDE
#define NX_PRELUDE
typedef unsigned char nx_bool;
template <class T, int V> struct alignas(sizeof(T) * V) nx_vec { T v[V]; };
template <class T> __device__ __forceinline__ T nx_inf();
template <> __device__ __forceinline__ float nx_inf<float>() { return __int_as_float(0x7f800000); }
template <> __device__ __forceinline__ double nx_inf<double>() { return __longlong_as_double(0x7ff0000000000000ll); }
// f16 and bf16 are stored as their bits and computed in f32, rounded to their precision
// after every op (to nearest even; NaN stays NaN), as interp computes them.
__device__ __forceinline__ float nx_from_bf16(unsigned short b) { return __uint_as_float((unsigned)b << 16); }
__device__ __forceinline__ unsigned short nx_to_bf16(float f) {
  unsigned u = __float_as_uint(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return (unsigned short)((u >> 16) | 0x40u);
  u += 0x7fffu + ((u >> 16) & 1u);
  return (unsigned short)(u >> 16);
}
__device__ __forceinline__ float nx_from_f16(unsigned short h) {
  unsigned sign = (unsigned)(h & 0x8000u) << 16, e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
  if (e == 0) return __uint_as_float(sign | __float_as_uint((float)m / 16777216.0f));
  if (e == 31) return __uint_as_float(sign | 0x7f800000u | (m << 13));
  return __uint_as_float(sign | ((e - 15u + 127u) << 23) | (m << 13));
}
__device__ __forceinline__ unsigned short nx_to_f16(float f) {
  unsigned x = __float_as_uint(f), sign = (x >> 16) & 0x8000u, a = x & 0x7fffffffu;
  if (a > 0x7f800000u) return (unsigned short)(sign | 0x7e00u);
  if (a >= 0x477ff000u) return (unsigned short)(sign | 0x7c00u);
  if (a < 0x38800000u) {
    float scaled = __uint_as_float(a) * 16777216.0f;
    unsigned m = (unsigned)scaled;
    float rest = scaled - (float)m;
    if (rest > 0.5f || (rest == 0.5f && (m & 1u))) ++m;
    return (unsigned short)(sign | m);
  }
  unsigned h = (((a >> 23) - 127u + 15u) << 10) | ((a & 0x7fffffu) >> 13), rest = a & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) ++h;
  return (unsigned short)(sign | h);
}
__device__ __forceinline__ float nx_round_bf16(float f) { return nx_from_bf16(nx_to_bf16(f)); }
__device__ __forceinline__ float nx_round_f16(float f) { return nx_from_f16(nx_to_f16(f)); }
template <class T> __device__ __forceinline__ T nx_max(T a, T b) { return a != a ? a : (a > b ? a : b); }
template <class T> __device__ __forceinline__ T nx_min(T a, T b) { return a != a ? a : (a < b ? a : b); }
template <class T> __device__ __forceinline__ T nx_sign(T x) { return x > T(0) ? T(1) : (x < T(0) ? T(-1) : x); }
// Integers as interp computes them: wrapping arithmetic, x / 0 = -1 and x % 0 = x (as
// XLA), MIN / -1 = MIN, shifts by a negative amount or the width or more give 0 (the sign
// for right shifts), floats to integers truncated, saturated, NaN to 0.
template <class T, class U> __device__ __forceinline__ T nx_quotient(T a, T b, T lowest) {
  return b == T(0) ? T(-1) : (lowest != T(0) && a == lowest && b == T(-1)) ? a : T(a / b);
}
template <class T> __device__ __forceinline__ T nx_remainder(T a, T b, T lowest) {
  return b == T(0) ? a : (lowest != T(0) && a == lowest && b == T(-1)) ? T(0) : T(a % b);
}
template <class T, class U> __device__ __forceinline__ T nx_shift_left(T a, T b) {
  return (b < T(0) || b >= T(sizeof(T) * 8)) ? T(0) : T(U(a) << U(b));
}
template <class T> __device__ __forceinline__ T nx_shift_right(T a, T b) {
  return (b < T(0) || b >= T(sizeof(T) * 8)) ? (a < T(0) ? T(-1) : T(0)) : T(a >> b);
}
// x^e by squaring, wrapping; a negative e gives 1/x^|e| truncated (0 unless x is 1 or -1).
template <class T, class U> __device__ __forceinline__ T nx_int_pow(T x, T e) {
  if (e < T(0)) return x == T(1) ? T(1) : (x == T(-1) ? ((e & T(1)) ? T(-1) : T(1)) : T(0));
  U r = 1, b = U(x);
  for (U n = U(e); n; n >>= 1) {
    if (n & 1u) r *= b;
    b *= b;
  }
  return T(r);
}
template <class T> __device__ __forceinline__ T nx_saturate(double v, double lowest, double highest, T tl, T th) {
  return v != v ? T(0) : v <= lowest ? tl : v >= highest ? th : T(v);
}
__device__ __forceinline__ float nx_sigmoid(float x) {
  float e = expf(-fabsf(x)), d = 1.0f + e;
  return x >= 0.0f ? 1.0f / d : e / d;
}
__device__ __forceinline__ double nx_sigmoid(double x) {
  double e = exp(-fabs(x)), d = 1.0 + e;
  return x >= 0.0 ? 1.0 / d : e / d;
}
template <class T> struct nx_sum {
  static __device__ __forceinline__ T id() { return T(0); }
  __device__ __forceinline__ T operator()(T a, T b) const { return a + b; }
};
template <class T> struct nx_rmax {
  static __device__ __forceinline__ T id() { return -nx_inf<T>(); }
  __device__ __forceinline__ T operator()(T a, T b) const { return nx_max(a, b); }
};
template <class T> struct nx_rmin {
  static __device__ __forceinline__ T id() { return nx_inf<T>(); }
  __device__ __forceinline__ T operator()(T a, T b) const { return nx_min(a, b); }
};
template <class T> struct nx_prod {
  static __device__ __forceinline__ T id() { return T(1); }
  __device__ __forceinline__ T operator()(T a, T b) const { return a * b; }
};
// all and any of values of any type (nonzero is true), as bools.
struct nx_all {
  static __device__ __forceinline__ nx_bool id() { return 1; }
  template <class U> __device__ __forceinline__ nx_bool operator()(nx_bool a, U b) const { return a != 0 && b != U(0); }
};
struct nx_any {
  static __device__ __forceinline__ nx_bool id() { return 0; }
  template <class U> __device__ __forceinline__ nx_bool operator()(nx_bool a, U b) const { return a != 0 || b != U(0); }
};
// Every lane of the warp gets lane 0's result (the butterfly leaves -0 and +0 apart).
template <class R, class T> __device__ __forceinline__ T nx_warp_reduce(T v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v = R()(v, __shfl_xor_sync(0xffffffffu, v, o));
  return __shfl_sync(0xffffffffu, v, 0);
}
// Every thread of the block calls it and gets the result; blockDim.x is a multiple of 32.
template <class R, class T> __device__ __forceinline__ T nx_block_reduce(T v) {
  __shared__ T nx_partials[32];
  v = nx_warp_reduce<R>(v);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  __syncthreads();  // an earlier reduction's partials have been read
  if (lane == 0) nx_partials[warp] = v;
  __syncthreads();
  v = lane < (int)(blockDim.x >> 5) ? nx_partials[lane] : R::id();
  return nx_warp_reduce<R>(v);
}
#endif
)";

// Where full values are computed: per element of a grid-stride loop (elementwise, all),
// per element of a row's pass (rows), per row of a column (cols).
struct Loop {
  bool rows_inline;  // row values are computed in the loop too (not hoisted out of it)
  bool lanes;        // a lane of a vector step: unmapped full inputs come from L<k>.v[u]
};

std::string fmt_int(int64_t v) { return std::to_string(v) + "ll"; }


class SourceEmitter {
 public:
  SourceEmitter(const KernelSpec& spec, std::string name) : spec_(spec), name_(std::move(name)) {
    Passes p = passes_of(spec, "cuda");
    space_ = std::move(p.space);
    pass_ = std::move(p.pass);
    passes_ = p.count;
    for (size_t k = 0; k < spec.outputs.size(); ++k) output_of_[spec.outputs[k]] = k;
  }

  std::string emit() {
    o_ << kPrelude;
    for (size_t k = 0; k < spec_.maps.size(); ++k) emit_map(k);
    switch (spec_.mode) {
      case Mode::elementwise: emit_elementwise(); break;
      case Mode::rows:
        emit_rows(false);
        emit_rows(true);
        break;
      case Mode::cols: emit_cols(); break;
      case Mode::all: emit_all(); break;
    }
    if (spec_.mode == Mode::cols || spec_.mode == Mode::all)
      for (size_t k = 0; k < spec_.outputs.size(); ++k)
        if (is_reduction(instr(spec_.outputs[k]).op)) emit_fold(k);
    return o_.str();
  }

 private:
  const KernelSpec::Instr& instr(int i) const { return spec_.code[static_cast<size_t>(i)]; }
  std::string type(size_t i) const { return value_type(spec_.code[i].dtype); }
  // What reduction i accumulates in: f16 and bf16 in f64, as interp, rounded once.
  std::string acc_type(size_t i) const { return is_half(spec_.code[i].dtype) ? "double" : type(i); }
  std::string v(int i) const {
    std::string s(1, 'v');  // not "v" + ...: g++ 12 warns falsely (-Wrestrict) on that
    s += std::to_string(i);
    return s;
  }
  bool is_output(size_t i) const { return output_of_.count(static_cast<int>(i)) > 0; }
  std::string out(size_t i) const { return "out" + std::to_string(output_of_.at(static_cast<int>(i))); }
  bool is_float(DType t) const { return t == DType::f32 || t == DType::f64 || is_half(t); }

  // maps[k] as a device function: the offset of the element, and whether it is in
  // bounds (ok stays true, else becomes false). In 32-bit arithmetic when every index
  // and offset fits, as the llvm backend does.
  void emit_map(size_t k) {
    const IndexMap& m = spec_.maps[k];
    bool narrow = fits_32_bits(m);
    const char* t = narrow ? "int" : "long long";
    const char* u = narrow ? "unsigned" : "unsigned long long";
    auto lit = [&](int64_t x) { return narrow ? std::to_string(x) : fmt_int(x); };
    o_ << "__device__ __forceinline__ long long nx_map" << k << "(long long element, bool& ok) {\n";
    o_ << "  " << t << " f = (" << t << ")element;\n";
    for (const View& view : m) {
      o_ << "  {\n    " << t << " off = " << lit(view.offset) << ";\n";
      int64_t inner = 1;
      for (size_t d = view.shape.size(); d-- > 0; inner *= view.shape[d]) {
        bool masked = view.lo[d] > 0 || view.hi[d] < view.shape[d];
        if (view.strides[d] == 0 && !masked) continue;
        o_ << "    { " << t << " idx = f";
        if (inner != 1) o_ << " / " << lit(inner);
        o_ << ";";
        if (d > 0) o_ << " idx %= " << lit(view.shape[d]) << ";";
        if (view.strides[d] != 0) o_ << " off += idx * " << lit(view.strides[d]) << ";";
        if (masked) {
          if (view.hi[d] <= view.lo[d]) o_ << " ok = false;";
          else
            o_ << " ok = ok && (" << u << ")(idx - " << lit(view.lo[d]) << ") < (" << u << ")" << lit(view.hi[d] - view.lo[d])
               << ";";
        }
        o_ << " }\n";
      }
      o_ << "    f = off;\n  }\n";
    }
    o_ << "  return (long long)f;\n}\n";
  }

  // The parameter list: inputs, outputs, then rows and cols (and extra).
  std::string params(const std::string& extra = "") const {
    std::string s;
    for (size_t k = 0; k < spec_.inputs.size(); ++k)
      s += std::string("const ") + c_type(spec_.inputs[k].dtype) + "* __restrict__ in" + std::to_string(k) + ", ";  // storage
    for (size_t k = 0; k < spec_.outputs.size(); ++k)  // f64 partials for reductions of halves
      s += std::string(folded_in_f64(spec_, k) ? "double" : c_type(instr(spec_.outputs[k]).dtype)) + "* __restrict__ out" +
           std::to_string(k) + ", ";
    s += "long long rows, long long cols";
    if (!extra.empty()) s += ", " + extra;
    return s;
  }
  void begin_kernel(const std::string& name, const std::string& extra = "") {
    o_ << "extern \"C\" __global__ void __launch_bounds__(" << kBlock << ") " << name << "(" << params(extra) << ") {\n";
    // Scalar inputs, read once.
    for (size_t i = 0; i < spec_.code.size(); ++i)
      if (space_[i] == Space::scalar)
        o_ << "  const " << type(i) << " " << v(static_cast<int>(i)) << " = "
           << loaded(spec_.code[i].dtype, "in" + std::to_string(spec_.code[i].input) + "[0]") << ";\n";
  }

  // The expression of elementwise op `ins` over its operands' values.
  std::string expr(const KernelSpec::Instr& ins) const {
    std::vector<std::string> a;
    for (int op : ins.operands) a.push_back(v(op));
    DType t = ins.dtype;
    DType t0 = ins.operands.empty() ? t : instr(ins.operands[0]).dtype;
    DType ft = is_float(t) ? t : t0;
    bool f32 = ft == DType::f32 || is_half(ft);  // halves compute in f32
    auto fn = [&](const char* f) { return std::string(f) + (f32 ? "f" : "") + "(" + a[0] + (a.size() > 1 ? ", " + a[1] : "") + ")"; };
    auto bin = [&](const char* op) { return "(" + a[0] + " " + op + " " + a[1] + ")"; };
    auto boolean = [&](const std::string& e) { return "(nx_bool)(" + e + ")"; };
    std::string one = f32 ? "1.0f" : "1.0";
    // Comparisons, selects and broadcasts read the same for every type.
    if ((is_integer(t) && ins.op != Op::Select && ins.op != Op::Broadcast) || (ins.op == Op::AsType && is_integer(t0)))
      return integer_expr(ins, a, t, t0);
    switch (ins.op) {
      case Op::Add: return bin("+");
      case Op::Subtract: return bin("-");
      case Op::Multiply: return bin("*");
      case Op::Divide: return bin("/");
      case Op::Negate: return "(-" + a[0] + ")";
      case Op::Abs: return fn("fabs");
      case Op::Sqrt: return fn("sqrt");
      case Op::Exp: return fn("exp");
      case Op::Log: return fn("log");
      case Op::Tanh: return fn("tanh");
      case Op::Erf: return fn("erf");
      case Op::Floor: return fn("floor");
      case Op::Ceil: return fn("ceil");
      case Op::Round: return fn("round");  // half away from zero
      case Op::Rsqrt: return "(" + one + " / " + fn("sqrt") + ")";
      case Op::Sign: return "nx_sign(" + a[0] + ")";
      case Op::Sin: return fn("sin");
      case Op::Cos: return fn("cos");
      case Op::Log1p: return fn("log1p");
      case Op::Expm1: return fn("expm1");
      case Op::Pow: return fn("pow");
      case Op::Tan: return fn("tan");
      case Op::Asin: return fn("asin");
      case Op::Acos: return fn("acos");
      case Op::Atan: return fn("atan");
      case Op::Sinh: return fn("sinh");
      case Op::Cosh: return fn("cosh");
      case Op::Asinh: return fn("asinh");
      case Op::Acosh: return fn("acosh");
      case Op::Atanh: return fn("atanh");
      case Op::Erfc: return fn("erfc");
      case Op::ErfInv: return fn("erfinv");
      case Op::Cbrt: return fn("cbrt");
      case Op::Atan2: return fn("atan2");
      case Op::Remainder: return fn("fmod");
      case Op::Sigmoid: return "nx_sigmoid(" + a[0] + ")";
      case Op::Max: return "nx_max(" + a[0] + ", " + a[1] + ")";
      case Op::Min: return "nx_min(" + a[0] + ", " + a[1] + ")";
      case Op::Broadcast: return a[0];  // the input's access (a row, a column) does the broadcasting
      case Op::LogicalNot: return boolean(a[0] + " == 0");
      case Op::LogicalAnd: return boolean(a[0] + " != 0 && " + a[1] + " != 0");
      case Op::LogicalOr: return boolean(a[0] + " != 0 || " + a[1] + " != 0");
      case Op::LogicalXor: return boolean("(" + a[0] + " != 0) != (" + a[1] + " != 0)");
      case Op::IsNan: return boolean(a[0] + " != " + a[0]);
      case Op::IsInfinity:
        return is_integer(t0) ? "(nx_bool)0" : boolean(fn("fabs") + " == nx_inf<" + value_type(t0) + ">()");
      case Op::Equal: return boolean(a[0] + " == " + a[1]);
      case Op::NotEqual: return boolean(a[0] + " != " + a[1]);
      case Op::Less: return boolean(a[0] + " < " + a[1]);
      case Op::LessEqual: return boolean(a[0] + " <= " + a[1]);
      case Op::Greater: return boolean(a[0] + " > " + a[1]);
      case Op::GreaterEqual: return boolean(a[0] + " >= " + a[1]);
      case Op::Select: return "(" + a[0] + " != 0 ? " + a[1] + " : " + a[2] + ")";
      case Op::AsType:
        if (t == DType::bool_) return boolean(a[0] + " != 0");  // NaN is true
        return "(" + value_type(t) + ")" + a[0];  // a half result is rounded by the caller
      default: throw Error("cuda", std::string("no kernel code for ") + std::string(op_name(ins.op)));
    }
  }

  static bool is_integer(DType t) { return t == DType::u8 || t == DType::u32 || t == DType::i32 || t == DType::i64; }
  // The unsigned type of the same width, the C++ literal of the lowest value (0 for
  // unsigned types), and the range as doubles (saturating conversions).
  static const char* unsigned_of(DType t) {
    return t == DType::i64 ? "unsigned long long" : t == DType::u8 ? "unsigned char" : "unsigned";
  }
  static std::string lowest(DType t) {
    return t == DType::i32 ? "(-2147483647 - 1)" : t == DType::i64 ? "(-9223372036854775807ll - 1)" : "0";
  }
  static std::pair<std::string, std::string> range(DType t) {
    switch (t) {
      case DType::u8: return {"0.0", "255.0"};
      case DType::u32: return {"0.0", "4294967295.0"};
      case DType::i32: return {"-2147483648.0", "2147483647.0"};
      default: return {"-9223372036854775808.0", "9223372036854775807.0"};
    }
  }

  // An op with integer operands or result (cuda_kernel_supports lists which).
  std::string integer_expr(const KernelSpec::Instr& ins, const std::vector<std::string>& a, DType t, DType t0) const {
    std::string ct = value_type(t), u = unsigned_of(t);
    auto cast = [&](const std::string& e) { return "(" + ct + ")(" + e + ")"; };
    auto wrap = [&](const char* op) { return cast("(" + u + ")" + a[0] + " " + op + " (" + u + ")" + a[1]); };
    auto boolean = [&](const std::string& e) { return "(nx_bool)(" + e + ")"; };
    bool is_signed = t == DType::i32 || t == DType::i64;
    switch (ins.op) {
      case Op::Add: return wrap("+");
      case Op::Subtract: return wrap("-");
      case Op::Multiply: return wrap("*");
      case Op::Negate: return cast("(" + u + ")0 - (" + u + ")" + a[0]);
      case Op::Abs: return is_signed ? "(" + a[0] + " < 0 ? " + cast("(" + u + ")0 - (" + u + ")" + a[0]) + " : " + a[0] + ")" : a[0];
      case Op::Sign: return is_signed ? cast("(" + a[0] + " > 0) - (" + a[0] + " < 0)") : cast(a[0] + " > 0");
      case Op::Max: return "(" + a[0] + " > " + a[1] + " ? " + a[0] + " : " + a[1] + ")";
      case Op::Min: return "(" + a[0] + " < " + a[1] + " ? " + a[0] + " : " + a[1] + ")";
      case Op::Quotient: return "nx_quotient<" + ct + ", " + u + ">(" + a[0] + ", " + a[1] + ", " + cast(lowest(t)) + ")";
      case Op::Remainder: return "nx_remainder<" + ct + ">(" + a[0] + ", " + a[1] + ", " + cast(lowest(t)) + ")";
      case Op::BitwiseAnd: return cast(a[0] + " & " + a[1]);
      case Op::BitwiseOr: return cast(a[0] + " | " + a[1]);
      case Op::BitwiseXor: return cast(a[0] + " ^ " + a[1]);
      case Op::BitwiseNot: return cast("~" + a[0]);
      case Op::Pow: return "nx_int_pow<" + ct + ", " + u + ">(" + a[0] + ", " + a[1] + ")";
      case Op::CountLeadingZeros:
        return t == DType::i64 ? cast("__clzll(" + a[0] + ")")
                               : cast("__clz((int)(" + u + ")" + a[0] + ")" + (t == DType::u8 ? " - 24" : ""));
      case Op::PopulationCount:
        return t == DType::i64 ? cast("__popcll(" + a[0] + ")") : cast("__popc((" + u + ")" + a[0] + ")");
      case Op::LeftShift: return "nx_shift_left<" + ct + ", " + u + ">(" + a[0] + ", " + a[1] + ")";
      case Op::RightShift: return "nx_shift_right<" + ct + ">(" + a[0] + ", " + a[1] + ")";
      case Op::AsType:
        if (t == DType::bool_) return boolean(a[0] + " != 0");
        if (is_integer(t) && is_float(t0)) {
          auto [lo, hi] = range(t);
          return "nx_saturate<" + ct + ">((double)" + a[0] + ", " + lo + ", " + hi + ", " + cast(t == DType::u8 || t == DType::u32 ? "0" : lowest(t)) +
                 ", " + cast(t == DType::u8 ? "255" : t == DType::u32 ? "4294967295u" : t == DType::i32 ? "2147483647" : "9223372036854775807ll") + ")";
        }
        return cast(a[0]);  // integers wrap modulo 2^n; integers to floats round to nearest
      default: throw Error("cuda", std::string("no kernel code for ") + std::string(op_name(ins.op)) + " on integers");
    }
  }

  // The reduction functor of instruction i.
  std::string reducer(size_t i) const {
    switch (spec_.code[i].op) {
      case Op::All: return "nx_all";
      case Op::Any: return "nx_any";
      case Op::Sum: return "nx_sum<" + acc_type(i) + ">";
      case Op::Product: return "nx_prod<" + acc_type(i) + ">";
      case Op::ReduceMax: return "nx_rmax<" + acc_type(i) + ">";
      default: return "nx_rmin<" + acc_type(i) + ">";
    }
  }

  // Marks what the stores and reductions of pass p need, computed in a loop body.
  std::vector<bool> needed(int p, const Loop& loop) const {
    size_t n = spec_.code.size();
    std::vector<bool> need(n, false);
    auto computed_here = [&](size_t i) {
      return space_[i] == Space::full || (loop.rows_inline && space_[i] == Space::row && !is_reduction(spec_.code[i].op));
    };
    for (size_t i = n; i-- > 0;) {
      const KernelSpec::Instr& ins = spec_.code[i];
      bool root = computed_here(i) && space_[i] == Space::full && pass_[i] == p && is_output(i);
      if (loop.rows_inline && computed_here(i) && is_output(i)) root = true;
      if (is_reduction(ins.op) && pass_[static_cast<size_t>(ins.operands[0])] == p) root = true;
      if (!root && !need[i]) continue;
      need[i] = true;
      for (int op : ins.operands)
        if (computed_here(static_cast<size_t>(op))) need[static_cast<size_t>(op)] = true;
    }
    return need;
  }

  // The statements computing the needed values at element e (row r, column c), then
  // the stores of this pass's outputs, then the reductions' accumulation.
  void body(int p, const std::vector<bool>& need, const Loop& loop, const std::string& pad) {
    for (size_t i = 0; i < spec_.code.size(); ++i) {
      if (!need[i]) continue;
      const KernelSpec::Instr& ins = spec_.code[i];
      std::string name = v(static_cast<int>(i)), ty = type(i);
      if (is_reduction(ins.op)) {
        o_ << pad << "a" << i << " = " << reducer(i) << "()(a" << i << ", " << v(ins.operands[0]) << ");\n";
        continue;
      }
      if (ins.map >= 0) {
        o_ << pad << "bool ok" << i << " = true;\n";
        o_ << pad << "const long long o" << i << " = nx_map" << ins.map << "(e, ok" << i << ");\n";
        if (ins.op == Op::Parameter)
          o_ << pad << "const " << ty << " " << name << " = "
             << loaded(ins.dtype, "in" + std::to_string(ins.input) + "[ok" + std::to_string(i) + " ? o" + std::to_string(i) + " : 0]")
             << ";\n";
        else if (ins.op == Op::Iota)
          o_ << pad << "const " << ty << " " << name << " = " << rounded(ins.dtype, "(" + ty + ")o" + std::to_string(i)) << ";\n";
        else  // Pad
          o_ << pad << "const " << ty << " " << name << " = ok" << i << " ? " << v(ins.operands[0]) << " : " << v(ins.operands[1])
             << ";\n";
        continue;
      }
      if (ins.op == Op::Parameter) {
        auto access = spec_.inputs[static_cast<size_t>(ins.input)].access;
        std::string at = access == KernelSpec::Access::row ? "r" : access == KernelSpec::Access::col ? "c" : "e";
        std::string load = loop.lanes && access == KernelSpec::Access::full ? "L" + std::to_string(ins.input) + ".v[u]"
                                                                             : "in" + std::to_string(ins.input) + "[" + at + "]";
        o_ << pad << "const " << ty << " " << name << " = " << loaded(ins.dtype, load) << ";\n";
        continue;
      }
      o_ << pad << "const " << ty << " " << name << " = " << rounded(ins.dtype, expr(ins)) << ";\n";
    }
    for (size_t i = 0; i < spec_.code.size(); ++i) {
      bool written = need[i] && is_output(i) && !is_reduction(spec_.code[i].op) &&
                     (space_[i] == Space::full ? pass_[i] == p : loop.rows_inline);
      if (!written) continue;
      std::string value = stored(spec_.code[i].dtype, v(static_cast<int>(i)));
      if (loop.lanes) o_ << pad << "S" << output_of_.at(static_cast<int>(i)) << ".v[u] = " << value << ";\n";
      else o_ << pad << out(i) << (space_[i] == Space::row ? "[r] = " : "[e] = ") << value << ";\n";
    }
  }

  // Row values (row inputs, per-row results) of pass p, hoisted to the row's scope.
  void row_values(int p, const std::string& pad) {
    for (size_t i = 0; i < spec_.code.size(); ++i) {
      const KernelSpec::Instr& ins = spec_.code[i];
      if (space_[i] != Space::row || pass_[i] != p || is_reduction(ins.op)) continue;
      std::string rhs = ins.op == Op::Parameter ? loaded(ins.dtype, "in" + std::to_string(ins.input) + "[r]")
                                                : rounded(ins.dtype, expr(ins));
      o_ << pad << "const " << type(i) << " " << v(static_cast<int>(i)) << " = " << rhs << ";\n";
    }
  }

  void accumulators(const std::vector<bool>& need, const std::string& pad) {
    for (size_t i = 0; i < spec_.code.size(); ++i)
      if (need[i] && is_reduction(spec_.code[i].op)) o_ << pad << acc_type(i) << " a" << i << " = " << reducer(i) << "::id();\n";
  }

  void emit_elementwise() {
    begin_kernel(name_);
    o_ << "  const long long n = rows * cols;\n";
    o_ << "  const long long tid = blockIdx.x * (long long)blockDim.x + threadIdx.x, step = (long long)gridDim.x * blockDim.x;\n";
    Loop scalar{.rows_inline = true, .lanes = false};
    std::vector<bool> need = needed(0, scalar);
    std::string first = "tid";
    if (!spec_.two_d) {
      // Vector steps: whole vectors of every unmapped input and output, each step at a
      // multiple of kVector; when a buffer is not aligned for them (nx++'s own are, at
      // 256 bytes), everything runs one by one.
      Loop lanes{.rows_inline = true, .lanes = true};
      std::vector<bool> loaded(spec_.inputs.size());
      std::vector<std::string> vec_type(spec_.inputs.size());
      std::string aligned;
      auto vec = [&](DType t) { return "nx_vec<" + std::string(c_type(t)) + ", " + std::to_string(kVector) + ">"; };
      auto require = [&](const std::string& ptr, const std::string& vt) {
        aligned += (aligned.empty() ? "" : " && ") + std::string("reinterpret_cast<unsigned long long>(") + ptr + ") % alignof(" + vt + ") == 0";
      };
      for (size_t i = 0; i < spec_.code.size(); ++i) {
        const KernelSpec::Instr& ins = spec_.code[i];
        if (!need[i] || ins.op != Op::Parameter || ins.map >= 0) continue;
        auto k = static_cast<size_t>(ins.input);
        if (spec_.inputs[k].access != KernelSpec::Access::full || loaded[k]) continue;
        loaded[k] = true;
        vec_type[k] = vec(spec_.inputs[k].dtype);
        require("in" + std::to_string(k), vec_type[k]);
      }
      for (size_t k = 0; k < spec_.outputs.size(); ++k) require("out" + std::to_string(k), vec(instr(spec_.outputs[k]).dtype));
      o_ << "  const bool aligned = " << aligned << ";\n";
      o_ << "  const long long steps = aligned ? n / " << kVector << " : 0;\n";
      o_ << "  for (long long q = tid; q < steps; q += step) {\n";
      o_ << "    const long long e0 = q * " << kVector << ";\n";
      for (size_t k = 0; k < spec_.inputs.size(); ++k)
        if (loaded[k])
          o_ << "    const " << vec_type[k] << " L" << k << " = *reinterpret_cast<const " << vec_type[k] << "*>(in" << k << " + e0);\n";
      for (size_t k = 0; k < spec_.outputs.size(); ++k) o_ << "    " << vec(instr(spec_.outputs[k]).dtype) << " S" << k << ";\n";
      o_ << "#pragma unroll\n    for (int u = 0; u < " << kVector << "; ++u) {\n";
      o_ << "      const long long e = e0 + u;\n      (void)e;\n";
      body(0, need, lanes, "      ");
      o_ << "    }\n";
      for (size_t k = 0; k < spec_.outputs.size(); ++k)
        o_ << "    *reinterpret_cast<nx_vec<" << c_type(instr(spec_.outputs[k]).dtype) << ", " << kVector << ">*>(out" << k
           << " + e0) = S" << k << ";\n";
      o_ << "  }\n";
      first = "steps * " + std::to_string(kVector) + " + tid";
    }
    o_ << "  for (long long e = " << first << "; e < n; e += step) {\n";
    if (spec_.two_d) o_ << "    const long long r = e / cols, c = e - r * cols;\n    (void)r; (void)c;\n";
    body(0, need, scalar, "    ");
    o_ << "  }\n}\n";
  }

  // warp: a warp per row (rows up to a few hundred elements); else a block per row.
  void emit_rows(bool warp) {
    begin_kernel(warp ? name_ + "_warp" : name_);
    const char* reduce = warp ? "nx_warp_reduce" : "nx_block_reduce";
    if (warp) {
      o_ << "  const int lane = threadIdx.x & 31, width = 32;\n";
      o_ << "  const long long first = (blockIdx.x * (long long)blockDim.x + threadIdx.x) >> 5, "
            "step = ((long long)gridDim.x * blockDim.x) >> 5;\n";
    } else {
      o_ << "  const int lane = threadIdx.x, width = blockDim.x;\n";
      o_ << "  const long long first = blockIdx.x, step = gridDim.x;\n";
    }
    o_ << "  for (long long r = first; r < rows; r += step) {\n";
    Loop loop{.rows_inline = false, .lanes = false};
    for (int p = 0; p <= passes_; ++p) {
      row_values(p, "    ");
      if (p == passes_) break;
      std::vector<bool> need = needed(p, loop);
      accumulators(need, "    ");
      o_ << "    for (long long j = lane; j < cols; j += width) {\n";
      o_ << "      const long long e = r * cols + j, c = j;\n      (void)e; (void)c;\n";
      body(p, need, loop, "      ");
      o_ << "    }\n";
      for (size_t i = 0; i < spec_.code.size(); ++i)
        if (need[i] && is_reduction(spec_.code[i].op))
          o_ << "    const " << type(i) << " " << v(static_cast<int>(i)) << " = "
             << rounded(spec_.code[i].dtype, reduce + std::string("<") + reducer(i) + ">(a" + std::to_string(i) + ")") << ";\n";
    }
    for (size_t i = 0; i < spec_.code.size(); ++i)
      if (space_[i] == Space::row && is_output(i))
        o_ << "    if (lane == 0) " << out(i) << "[r] = " << stored(spec_.code[i].dtype, v(static_cast<int>(i))) << ";\n";
    o_ << "  }\n}\n";
  }

  // The loop of a reducing kernel (cols: over a chunk's rows; all: grid-stride over
  // elements) with its accumulators; returns what it computes.
  std::vector<bool> reducing_loop(const std::string& header, const std::string& index) {
    Loop loop{.rows_inline = true, .lanes = false};
    std::vector<bool> need = needed(0, loop);
    accumulators(need, "  ");
    o_ << "  " << header << " {\n    " << index << "\n";
    body(0, need, loop, "    ");
    o_ << "  }\n";
    return need;
  }

  void emit_cols() {
    begin_kernel(name_, "long long chunk");
    o_ << "  const long long c = blockIdx.x * (long long)blockDim.x + threadIdx.x;\n";
    o_ << "  if (c >= cols) return;\n";
    o_ << "  const long long r0 = (long long)blockIdx.y * chunk, r1 = r0 + chunk < rows ? r0 + chunk : rows;\n";
    std::vector<bool> need = reducing_loop("for (long long r = r0; r < r1; ++r)", "const long long e = r * cols + c;\n    (void)e;");
    for (size_t i = 0; i < spec_.code.size(); ++i)
      if (need[i] && is_reduction(spec_.code[i].op) && is_output(i))
        o_ << "  " << out(i) << "[(long long)blockIdx.y * cols + c] = a" << i << ";\n";
    o_ << "}\n";
  }

  void emit_all() {
    begin_kernel(name_);
    o_ << "  const long long n = rows * cols;\n";
    std::vector<bool> need = reducing_loop(
        "for (long long e = blockIdx.x * (long long)blockDim.x + threadIdx.x; e < n; e += (long long)gridDim.x * blockDim.x)",
        "const long long r = 0, c = e;\n    (void)r; (void)c;");
    for (size_t i = 0; i < spec_.code.size(); ++i) {
      if (!need[i] || !is_reduction(spec_.code[i].op)) continue;
      o_ << "  a" << i << " = nx_block_reduce<" << reducer(i) << ">(a" << i << ");\n";
      if (is_output(i)) o_ << "  if (threadIdx.x == 0) " << out(i) << "[blockIdx.x] = a" << i << ";\n";
    }
    o_ << "}\n";
  }

  void emit_fold(size_t k) {
    auto i = static_cast<size_t>(spec_.outputs[k]);
    std::string t = acc_type(i), r = reducer(i);
    o_ << "extern \"C\" __global__ void __launch_bounds__(" << kBlock << ") " << name_ << "_fold" << k << "(const " << t
       << "* __restrict__ part, " << c_type(spec_.code[i].dtype) << "* __restrict__ out, long long parts, long long width) {\n";
    o_ << "  for (long long j = blockIdx.x; j < width; j += gridDim.x) {\n";
    o_ << "    " << t << " a = " << r << "::id();\n";
    o_ << "    for (long long p = threadIdx.x; p < parts; p += blockDim.x) a = " << r << "()(a, part[p * width + j]);\n";
    o_ << "    a = nx_block_reduce<" << r << ">(a);\n";
    o_ << "    if (threadIdx.x == 0) out[j] = " << stored(spec_.code[i].dtype, "a") << ";\n  }\n}\n";
  }

  const KernelSpec& spec_;
  std::string name_;
  std::vector<Space> space_;
  std::vector<int> pass_;
  int passes_ = 1;
  std::unordered_map<int, size_t> output_of_;
  std::ostringstream o_;
};

}  // namespace

const char* c_type(DType t) {
  switch (t) {
    case DType::f32: return "float";
    case DType::f64: return "double";
    case DType::bool_: return "nx_bool";
    case DType::u8: return "unsigned char";
    case DType::u32: return "unsigned";
    case DType::i32: return "int";
    case DType::i64: return "long long";
    case DType::f16: case DType::bf16: return "unsigned short";  // the bits; computed in f32
    default: throw Error("cuda", "no kernel code for " + std::string(name(t)));
  }
}

std::string emit_source(const KernelSpec& spec, const std::string& name) { return SourceEmitter(spec, name).emit(); }

bool is_half(DType t) { return t == DType::f16 || t == DType::bf16; }
std::string value_type(DType t) { return is_half(t) ? "float" : c_type(t); }
namespace {
const char* half_name(DType t) { return t == DType::f16 ? "f16" : "bf16"; }
}  // namespace
std::string loaded(DType t, const std::string& e) { return is_half(t) ? std::string("nx_from_") + half_name(t) + "(" + e + ")" : e; }
std::string stored(DType t, const std::string& e) { return is_half(t) ? std::string("nx_to_") + half_name(t) + "(" + e + ")" : e; }
std::string rounded(DType t, const std::string& e) {
  return is_half(t) ? std::string("nx_round_") + half_name(t) + "(" + e + ")" : e;
}

const char* kernel_prelude() { return kPrelude; }

std::string grid_stride_loop(const std::string& var) {
  return "  for (long long " + var + " = blockIdx.x * (long long)blockDim.x + threadIdx.x; " + var + " < n; " + var +
         " += (long long)gridDim.x * blockDim.x) {\n";
}

namespace {
bool integer(DType t) { return t == DType::u8 || t == DType::u32 || t == DType::i32 || t == DType::i64; }
bool floating(DType t) { return t == DType::f32 || t == DType::f64; }
}  // namespace

// Float ops beyond the llvm backend's list: CUDA's math library has them all.
bool cuda_float_supports(Op op, DType result, std::span<const DType> operands) {
  if (kernel_supports(op, result, operands)) return true;
  bool same = floating(result) && std::all_of(operands.begin(), operands.end(), [&](DType o) { return o == result; });
  switch (op) {
    case Op::Tan: case Op::Asin: case Op::Acos: case Op::Atan: case Op::Sinh: case Op::Cosh: case Op::Asinh:
    case Op::Acosh: case Op::Atanh: case Op::Erfc: case Op::ErfInv: case Op::Cbrt: case Op::Atan2: case Op::Remainder:
    case Op::Product:
      return same;
    default: return false;
  }
}

bool cuda_kernel_supports(Op op, DType result, std::span<const DType> operands) {
  if (cuda_float_supports(op, result, operands)) return true;
  // f16 and bf16 compute as f32 does, rounded after each op; reductions accumulate in
  // f64 and round once (partial results stay f64), as interp.
  auto widened = [](DType t) { return t == DType::f16 || t == DType::bf16 ? DType::f32 : t; };
  bool half = result == DType::f16 || result == DType::bf16 ||
              std::any_of(operands.begin(), operands.end(), [](DType t) { return t == DType::f16 || t == DType::bf16; });
  if (half) {
    std::vector<DType> wide;
    for (DType t : operands) wide.push_back(widened(t));
    if (cuda_float_supports(op, widened(result), wide)) return true;
  }
  auto all = [&](DType t) { return std::all_of(operands.begin(), operands.end(), [&](DType o) { return o == t; }); };
  auto known = [&](DType t) { return integer(t) || floating(t) || t == DType::bool_ || t == DType::f16 || t == DType::bf16; };
  switch (op) {
    case Op::All: case Op::Any: return result == DType::bool_ && known(operands[0]);
    case Op::Add: case Op::Subtract: case Op::Multiply: case Op::Negate: case Op::Abs: case Op::Sign: case Op::Max:
    case Op::Min: case Op::Quotient: case Op::Remainder: case Op::BitwiseAnd: case Op::BitwiseOr: case Op::BitwiseXor:
    case Op::BitwiseNot: case Op::LeftShift: case Op::RightShift: case Op::Broadcast: case Op::Pow:
    case Op::CountLeadingZeros: case Op::PopulationCount:
      return integer(result) && all(result);
    case Op::IsNan: case Op::IsInfinity: case Op::LogicalNot:
      return result == DType::bool_ && integer(operands[0]);
    case Op::Equal: case Op::NotEqual: case Op::Less: case Op::LessEqual: case Op::Greater: case Op::GreaterEqual:
      return result == DType::bool_ && integer(operands[0]) && operands[1] == operands[0];
    case Op::Select: return integer(result) && operands[0] == DType::bool_ && operands[1] == result && operands[2] == result;
    case Op::AsType: return known(result) && known(operands[0]);
    default: return false;
  }
}

bool cuda_view_supports(Op op, DType t) { return view_supports(op, t) || integer(t) || t == DType::f16 || t == DType::bf16; }

}  // namespace nx::cuda_backend
