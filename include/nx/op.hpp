// The closed set of graph primitives. Everything else is a composite of these.
#pragma once
#include <cstdint>
#include <string_view>

namespace nx {

// X(Name, "name", kind) — kind groups ops for generic handling.
#define NX_OPS(X)                                                                         \
  X(Parameter, "parameter", Leaf) X(Constant, "constant", Leaf) X(Iota, "iota", Leaf)      \
  X(Negate, "negate", Unary) X(Abs, "abs", Unary) X(Sign, "sign", Unary)                   \
  X(Floor, "floor", Unary) X(Ceil, "ceil", Unary) X(Round, "round", Unary)                 \
  X(Exp, "exp", Unary) X(Expm1, "expm1", Unary) X(Log, "log", Unary)                       \
  X(Log1p, "log1p", Unary) X(Sqrt, "sqrt", Unary) X(Rsqrt, "rsqrt", Unary)                 \
  X(Cbrt, "cbrt", Unary) X(Sin, "sin", Unary) X(Cos, "cos", Unary) X(Tan, "tan", Unary)    \
  X(Asin, "asin", Unary) X(Acos, "acos", Unary) X(Atan, "atan", Unary)                     \
  X(Sinh, "sinh", Unary) X(Cosh, "cosh", Unary) X(Tanh, "tanh", Unary)                     \
  X(Asinh, "asinh", Unary) X(Acosh, "acosh", Unary) X(Atanh, "atanh", Unary)               \
  X(Sigmoid, "sigmoid", Unary) X(Erf, "erf", Unary) X(Erfc, "erfc", Unary)                 \
  X(ErfInv, "erf_inv", Unary) X(IsNan, "is_nan", Unary)                                    \
  X(IsInfinity, "is_infinity", Unary) X(LogicalNot, "logical_not", Unary)                  \
  X(BitwiseNot, "bitwise_not", Unary) X(CountLeadingZeros, "count_leading_zeros", Unary)   \
  X(PopulationCount, "population_count", Unary)                                            \
  X(Add, "add", Binary) X(Subtract, "subtract", Binary) X(Multiply, "multiply", Binary)    \
  X(Divide, "divide", Binary) X(Quotient, "quotient", Binary)                              \
  X(Remainder, "remainder", Binary) X(Pow, "pow", Binary) X(Max, "max", Binary)            \
  X(Min, "min", Binary) X(Atan2, "atan2", Binary) X(Equal, "equal", Binary)                \
  X(NotEqual, "not_equal", Binary) X(Less, "less", Binary)                                 \
  X(LessEqual, "less_equal", Binary) X(Greater, "greater", Binary)                         \
  X(GreaterEqual, "greater_equal", Binary) X(LogicalAnd, "logical_and", Binary)            \
  X(LogicalOr, "logical_or", Binary) X(LogicalXor, "logical_xor", Binary)                  \
  X(BitwiseAnd, "bitwise_and", Binary) X(BitwiseOr, "bitwise_or", Binary)                  \
  X(BitwiseXor, "bitwise_xor", Binary) X(LeftShift, "left_shift", Binary)                  \
  X(RightShift, "right_shift", Binary)                                                     \
  X(Select, "select", Other) X(AsType, "as_type", Other) X(Bitcast, "bitcast", Other)      \
  X(StopGrad, "stop_grad", Other)                                                          \
  X(Sum, "sum", Reduce) X(Product, "product", Reduce) X(ReduceMax, "reduce_max", Reduce)   \
  X(ReduceMin, "reduce_min", Reduce) X(All, "all", Reduce) X(Any, "any", Reduce)           \
  X(Argmax, "argmax", Other) X(Argmin, "argmin", Other)                                    \
  X(CumulativeSum, "cumulative_sum", Other) X(CumulativeProduct, "cumulative_product", Other) \
  X(CumulativeMax, "cumulative_max", Other) X(CumulativeMin, "cumulative_min", Other)      \
  X(Reshape, "reshape", Other) X(Transpose, "transpose", Other)                            \
  X(Broadcast, "broadcast", Other) X(Slice, "slice", Other) X(PutSlice, "put_slice", Other) \
  X(Pad, "pad", Other) X(Concatenate, "concatenate", Other) X(Reverse, "reverse", Other)   \
  X(Gather, "gather", Other) X(IndexedAdd, "indexed_add", Other)                           \
  X(IndexedPut, "indexed_put", Other) X(DotGeneral, "dot_general", Other)                  \
  X(Conv, "conv", Other) X(WindowSum, "window_sum", Window) X(WindowMax, "window_max", Window) \
  X(WindowMin, "window_min", Window) X(WindowProduct, "window_product", Window)            \
  X(WindowScatterMax, "window_scatter_max", Other)                                         \
  X(WindowScatterMin, "window_scatter_min", Other)                                         \
  X(Sort, "sort", Other) X(Argsort, "argsort", Other) X(TopK, "top_k", Other)              \
  X(Cholesky, "cholesky", Linalg) X(TriangularSolve, "triangular_solve", Linalg)           \
  X(Qr, "qr", Linalg) X(Eigh, "eigh", Linalg) X(Svd, "svd", Linalg) X(Lu, "lu", Linalg)    \
  X(Solve, "solve", Linalg) X(Determinant, "determinant", Linalg)                          \
  X(RandomBits, "random_bits", Other) X(While, "while", Control) X(Cond, "cond", Control) \
  X(CustomGrad, "custom_grad", Control) X(HostCallback, "host_callback", Other)

enum class Op : uint16_t {
#define NX_OP_ENUM(name, str, kind) name,
  NX_OPS(NX_OP_ENUM)
#undef NX_OP_ENUM
};

enum class OpKind : uint8_t { Leaf, Unary, Binary, Reduce, Window, Linalg, Control, Other };

std::string_view op_name(Op op);
OpKind op_kind(Op op);
int num_ops();

}  // namespace nx
