// Front ends of the elementwise primitives: dtype rules, broadcasting, errors.
#include <array>

#include "nx/detail/core.hpp"

namespace nx {
namespace {

using detail::apply1;

// How an op treats dtypes.
enum class Rule {
  Float,      // ints/bool compute in to_float(dtype)
  Numeric,    // any number, not bool; same dtype out
  Rounding,   // floats; identity on integers
  Predicate,  // any dtype in, bool out
  Integer,    // integers only; same dtype out
  IntOrBool,  // integers or bool; same dtype out
};

std::string op_str(Op op) { return std::string(op_name(op)); }

Tensor unary(Op op, Rule rule, const Tensor& x, Where where) {
  DType t = x.dtype();
  DType out = t;
  switch (rule) {
    case Rule::Float: out = to_float(t); break;
    case Rule::Numeric:
      if (t == DType::bool_) throw DTypeError(op_str(op), "expects a number, got bool" + x.shape().str(), where);
      break;
    case Rule::Rounding:
      if (!is_float(t)) {
        if (t == DType::bool_) throw DTypeError(op_str(op), "expects a number, got bool" + x.shape().str(), where);
        return x;
      }
      break;
    case Rule::Predicate: out = DType::bool_; break;
    case Rule::Integer:
      if (!is_integer(t))
        throw DTypeError(op_str(op), "expects an integer tensor, got " + std::string(name(t)) + x.shape().str(), where);
      break;
    case Rule::IntOrBool:
      if (is_float(t))
        throw DTypeError(op_str(op), "expects an integer or bool tensor, got " + std::string(name(t)) + x.shape().str(),
                         where);
      break;
  }
  if (rule == Rule::Float && out != t)
    return detail::apply_elementwise(op, as_type(x, out, where), TensorType{out, x.shape()}, where, x.is_weak());
  return detail::apply_elementwise(op, x, TensorType{out, x.shape()}, where, x.is_weak());
}

// Promotes and checks both operands, returns them converted to the common dtype.
std::pair<Tensor, Tensor> promote_pair(Op op, const Tensor& a, const Tensor& b, DType& common, Where where) {
  if (!a.defined() || !b.defined()) throw ValueError(op_str(op), "an input tensor is undefined", where);
  common = promote(a.dtype(), a.is_weak(), b.dtype(), b.is_weak());
  Tensor ca = a.dtype() == common ? a : as_type(a, common, where);
  Tensor cb = b.dtype() == common ? b : as_type(b, common, where);
  return {std::move(ca), std::move(cb)};
}

Tensor binary(Op op, Rule rule, const Tensor& a, const Tensor& b, Where where) {
  if (!a.defined() || !b.defined()) throw ValueError(op_str(op), "an input tensor is undefined", where);
  DType common = promote(a.dtype(), a.is_weak(), b.dtype(), b.is_weak());
  Shape shape = broadcast_shapes(a.shape(), b.shape(), op_name(op).data(), where);
  DType out = common;
  auto bad = [&](const char* what) {
    throw DTypeError(op_str(op), std::string("expects ") + what + ", got " + detail::shapes_str(std::vector{a, b}),
                     where);
  };
  switch (rule) {
    case Rule::Float: out = to_float(common); break;
    case Rule::Numeric: if (common == DType::bool_) bad("numbers"); break;
    case Rule::Rounding: break;
    case Rule::Predicate: out = DType::bool_; break;
    case Rule::Integer: if (!is_integer(common)) bad("integers"); break;
    case Rule::IntOrBool: if (is_float(common)) bad("integers or bools"); break;
  }
  // The operands' dtype: the common one, then a float for Float ops (in two steps, so that
  // a weak scalar wraps to the common dtype first, as it does for other ops).
  DType operand = rule == Rule::Float ? out : common;
  bool weak = a.is_weak() && b.is_weak();
  if (a.dtype() == operand && b.dtype() == operand)
    return detail::apply_elementwise(op, a, b, TensorType{out, shape}, where, weak);
  auto convert = [&](const Tensor& t) {
    Tensor c = t.dtype() == common ? t : as_type(t, common, where);
    return c.dtype() == operand ? c : as_type(c, operand, where);
  };
  return detail::apply_elementwise(op, convert(a), convert(b), TensorType{out, shape}, where, weak);
}

}  // namespace

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op, Where where) {
  if (a == b) return a;
  int r = std::max(a.rank(), b.rank());
  std::vector<int64_t> out(static_cast<size_t>(r));
  for (int i = 0; i < r; ++i) {
    int ia = a.rank() - r + i, ib = b.rank() - r + i;
    int64_t da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
    if (da != db && da != 1 && db != 1)
      throw ShapeError(op, "cannot broadcast " + a.str() + " with " + b.str(), where);
    out[static_cast<size_t>(i)] = da == 1 ? db : da;
  }
  return Shape(out);
}

#define NX_UNARY_DEF(fn, OpName, rule) \
  Tensor fn(const Tensor& x, Where where) { return unary(Op::OpName, Rule::rule, x, where); }
NX_UNARY_DEF(negate, Negate, Numeric)
NX_UNARY_DEF(abs, Abs, Numeric)
NX_UNARY_DEF(sign, Sign, Numeric)
NX_UNARY_DEF(floor, Floor, Rounding)
NX_UNARY_DEF(ceil, Ceil, Rounding)
NX_UNARY_DEF(round, Round, Rounding)
NX_UNARY_DEF(exp, Exp, Float)
NX_UNARY_DEF(expm1, Expm1, Float)
NX_UNARY_DEF(log, Log, Float)
NX_UNARY_DEF(log1p, Log1p, Float)
NX_UNARY_DEF(sqrt, Sqrt, Float)
NX_UNARY_DEF(rsqrt, Rsqrt, Float)
NX_UNARY_DEF(cbrt, Cbrt, Float)
NX_UNARY_DEF(sin, Sin, Float)
NX_UNARY_DEF(cos, Cos, Float)
NX_UNARY_DEF(tan, Tan, Float)
NX_UNARY_DEF(asin, Asin, Float)
NX_UNARY_DEF(acos, Acos, Float)
NX_UNARY_DEF(atan, Atan, Float)
NX_UNARY_DEF(sinh, Sinh, Float)
NX_UNARY_DEF(cosh, Cosh, Float)
NX_UNARY_DEF(tanh, Tanh, Float)
NX_UNARY_DEF(asinh, Asinh, Float)
NX_UNARY_DEF(acosh, Acosh, Float)
NX_UNARY_DEF(atanh, Atanh, Float)
NX_UNARY_DEF(sigmoid, Sigmoid, Float)
NX_UNARY_DEF(erf, Erf, Float)
NX_UNARY_DEF(erfc, Erfc, Float)
NX_UNARY_DEF(erf_inv, ErfInv, Float)
NX_UNARY_DEF(is_nan, IsNan, Predicate)
NX_UNARY_DEF(is_infinity, IsInfinity, Predicate)
NX_UNARY_DEF(logical_not, LogicalNot, Predicate)
NX_UNARY_DEF(bitwise_not, BitwiseNot, IntOrBool)
NX_UNARY_DEF(count_leading_zeros, CountLeadingZeros, Integer)
NX_UNARY_DEF(population_count, PopulationCount, Integer)
#undef NX_UNARY_DEF

#define NX_BINARY_DEF(fn, OpName, rule) \
  Tensor fn(const Tensor& a, const Tensor& b, Where where) { return binary(Op::OpName, Rule::rule, a, b, where); }
NX_BINARY_DEF(add, Add, Numeric)
NX_BINARY_DEF(subtract, Subtract, Numeric)
NX_BINARY_DEF(multiply, Multiply, Numeric)
NX_BINARY_DEF(divide, Divide, Float)
NX_BINARY_DEF(quotient, Quotient, Integer)
NX_BINARY_DEF(remainder, Remainder, Numeric)
NX_BINARY_DEF(pow, Pow, Numeric)
NX_BINARY_DEF(max, Max, Rounding)
NX_BINARY_DEF(min, Min, Rounding)
NX_BINARY_DEF(atan2, Atan2, Float)
NX_BINARY_DEF(equal, Equal, Predicate)
NX_BINARY_DEF(not_equal, NotEqual, Predicate)
NX_BINARY_DEF(less, Less, Predicate)
NX_BINARY_DEF(less_equal, LessEqual, Predicate)
NX_BINARY_DEF(greater, Greater, Predicate)
NX_BINARY_DEF(greater_equal, GreaterEqual, Predicate)
NX_BINARY_DEF(logical_and, LogicalAnd, Predicate)
NX_BINARY_DEF(logical_or, LogicalOr, Predicate)
NX_BINARY_DEF(logical_xor, LogicalXor, Predicate)
NX_BINARY_DEF(bitwise_and, BitwiseAnd, IntOrBool)
NX_BINARY_DEF(bitwise_or, BitwiseOr, IntOrBool)
NX_BINARY_DEF(bitwise_xor, BitwiseXor, IntOrBool)
NX_BINARY_DEF(left_shift, LeftShift, Integer)
NX_BINARY_DEF(right_shift, RightShift, Integer)
#undef NX_BINARY_DEF

Tensor select(const Tensor& pred, const Tensor& on_true, const Tensor& on_false, Where where) {
  DType common;
  auto [t, f] = promote_pair(Op::Select, on_true, on_false, common, where);
  Shape shape = broadcast_shapes(broadcast_shapes(pred.shape(), on_true.shape(), "select", where), on_false.shape(),
                                 "select", where);
  Tensor p = pred.dtype() == DType::bool_ ? pred : not_equal(pred, 0, where);
  return apply1(Op::Select, {}, {p, t, f}, TensorType{common, shape}, where,
                on_true.is_weak() && on_false.is_weak());
}

Tensor as_type(const Tensor& x, DType dtype, Where where) {
  if (x.dtype() == dtype && !x.is_weak()) return x;
  // A concrete scalar (typically a C++ number in `x * 2.0`) converts on the host: no
  // dispatch, and inside a trace it stays a constant.
  if (x.defined() && !x.is_traced() && x.rank() == 0 && x.buffer()->owner()->host_accessible())
    return detail::as_type_for_creation(x, dtype, where);
  return apply1(Op::AsType, {}, {x}, TensorType{dtype, x.shape()}, where);
}

Tensor bitcast(const Tensor& x, DType dtype, Where where) {
  if (item_size(x.dtype()) != item_size(dtype) || dtype == DType::bool_ || x.dtype() == DType::bool_)
    throw DTypeError("bitcast", "cannot reinterpret " + std::string(name(x.dtype())) + " as " +
                                    std::string(name(dtype)) + ": item sizes differ or bool is involved",
                     where);
  if (x.dtype() == dtype) return x;
  return apply1(Op::Bitcast, {}, {x}, TensorType{dtype, x.shape()}, where);
}

Tensor operator-(Located x) { return negate(x.tensor(), x.where); }
Tensor operator~(Located x) { return bitwise_not(x.tensor(), x.where); }
Tensor operator!(Located x) { return logical_not(x.tensor(), x.where); }
#define NX_OPERATOR(sym, fn) \
  Tensor operator sym(Located a, const Tensor& b) { return fn(a.tensor(), b, a.where); }
NX_OPERATOR(+, add)
NX_OPERATOR(-, subtract)
NX_OPERATOR(*, multiply)
NX_OPERATOR(/, divide)
NX_OPERATOR(%, remainder)
NX_OPERATOR(&, bitwise_and)
NX_OPERATOR(|, bitwise_or)
NX_OPERATOR(^, bitwise_xor)
NX_OPERATOR(<<, left_shift)
NX_OPERATOR(>>, right_shift)
NX_OPERATOR(&&, logical_and)
NX_OPERATOR(||, logical_or)
NX_OPERATOR(==, equal)
NX_OPERATOR(!=, not_equal)
NX_OPERATOR(<, less)
NX_OPERATOR(<=, less_equal)
NX_OPERATOR(>, greater)
NX_OPERATOR(>=, greater_equal)
#undef NX_OPERATOR
Tensor operator==(const Tensor& a, LocatedNumber b) { return equal(a, b.value, b.where); }
Tensor operator!=(const Tensor& a, LocatedNumber b) { return not_equal(a, b.value, b.where); }
namespace {
// `a op= b` keeps a's dtype, as numpy and PyTorch do: a result that promotes (an int tensor
// += 0.5) is an error rather than a silent change of a's type.
Tensor& assign_same_dtype(Tensor& a, Tensor result, const std::string& sym, const Located& b) {
  if (a.defined() && !a.is_weak() && result.dtype() != a.dtype())
    throw DTypeError("operator" + sym + "=",
                     "the result is " + std::string(name(result.dtype())) + ", which cannot be stored back into the " +
                         std::string(name(a.dtype())) + " left operand (write a = a " + sym +
                         " b to change its dtype, or cast b)",
                     b.where);
  return a = std::move(result);
}
}  // namespace

Tensor& operator+=(Tensor& a, Located b) { return assign_same_dtype(a, add(a, b.tensor(), b.where), "+", b); }
Tensor& operator-=(Tensor& a, Located b) { return assign_same_dtype(a, subtract(a, b.tensor(), b.where), "-", b); }
Tensor& operator*=(Tensor& a, Located b) { return assign_same_dtype(a, multiply(a, b.tensor(), b.where), "*", b); }
Tensor& operator/=(Tensor& a, Located b) { return assign_same_dtype(a, divide(a, b.tensor(), b.where), "/", b); }

}  // namespace nx
