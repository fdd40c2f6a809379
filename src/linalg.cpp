// nx::linalg front ends: shape/dtype checks, float conversion, batch broadcasting, then
// one primitive (cholesky, triangular_solve, solve, qr, eigh, svd, lu, determinant) or a
// composite of ops (invert, least_squares, norm).
#include "nx/linalg.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "nx/composites.hpp"
#include "nx/detail/core.hpp"

namespace nx::linalg {
namespace {

using detail::apply;
using detail::apply1;

std::string type_str(const Tensor& t) { return std::string(name(t.dtype())) + t.shape().str(); }

// Integers compute in f32 (as Nx); bool is not a number here.
DType float_dtype(const Tensor& x, const char* op, Where where) {
  if (!x.defined()) throw ValueError(op, "an input tensor is undefined", where);
  if (x.dtype() == DType::bool_) throw DTypeError(op, "expects a float or integer tensor, got " + type_str(x), where);
  return to_float(x.dtype());
}

void check_matrix(const Tensor& a, const char* op, bool square, Where where) {
  if (a.rank() < 2)
    throw ShapeError(op, "expects a matrix (rank >= 2, batched over the leading dims), got " + a.shape().str(), where);
  if (square && a.dim(-1) != a.dim(-2)) throw ShapeError(op, "expects a square matrix, got " + a.shape().str(), where);
}

Shape batch_of(const Shape& s, int trailing) {
  Shape b;
  for (int i = 0; i < s.rank() - trailing; ++i) b.push_back(s[i]);
  return b;
}

Shape with_tail(Shape s, std::initializer_list<int64_t> tail) {
  for (int64_t d : tail) s.push_back(d);
  return s;
}

// x converted to dt and broadcast to `batch` + its own last two dims.
Tensor to_batch(const Tensor& x, const Shape& batch, DType dt, Where where) {
  Tensor c = as_type(x, dt, where);
  Shape s = with_tail(batch, {x.dim(-2), x.dim(-1)});
  return c.shape() == s ? c : broadcast(c, s, {}, where);
}

// A single float square/rectangular matrix operand, checked and converted.
Tensor matrix_input(const Tensor& a, const char* op, bool square, Where where) {
  DType dt = float_dtype(a, op, where);
  check_matrix(a, op, square, where);
  return as_type(a, dt, where);
}

// Swaps the last two axes.
// The common float dtype and broadcast batch of a matrix a and a right-hand side b
// (already a matrix), both returned converted and broadcast.
std::pair<Tensor, Tensor> common_pair(const Tensor& a, const Tensor& b, const char* op, Where where) {
  float_dtype(a, op, where);
  float_dtype(b, op, where);
  DType dt = to_float(promote(a.dtype(), a.is_weak(), b.dtype(), b.is_weak()));
  Shape batch = broadcast_shapes(batch_of(a.shape(), 2), batch_of(b.shape(), 2), op, where);
  return {to_batch(a, batch, dt, where), to_batch(b, batch, dt, where)};
}

// b as a matrix: vectors (b's rank is a's minus one, as Nx, or 1) become columns (rows
// for `row`); `was_vector` tells the caller to squeeze the result back. Matrices with
// fewer batch dims than a broadcast.
Tensor rhs_matrix(const Tensor& a, const Tensor& b, bool row, bool& was_vector, const char* op, Where where) {
  if (!b.defined()) throw ValueError(op, "an input tensor is undefined", where);
  if (b.rank() == 0) throw ShapeError(op, "expects b to be a vector or a matrix, got a scalar", where);
  was_vector = b.rank() == a.rank() - 1 || b.rank() == 1;
  return was_vector ? new_axis(b, row ? -2 : -1, where) : b;
}

// The operands of a solve: a checked (square or not), b a matrix (vectors become a column,
// or a row for `row`) whose `axis` must hold `expected` entries, both converted to one
// float dtype with broadcast batch dims. `vec` says whether to squeeze the result back.
std::tuple<Tensor, Tensor, bool> solve_operands(const Tensor& a, const Tensor& b, bool square, bool row, int axis,
                                                int a_axis, const std::string& expectation, const char* op,
                                                Where where) {
  float_dtype(a, op, where);
  check_matrix(a, op, square, where);
  bool vec;
  Tensor bm = rhs_matrix(a, b, row, vec, op, where);
  int64_t expected = a.dim(a_axis);
  if (bm.dim(axis) != expected)
    throw ShapeError(op, "expects b's " + expectation + " " + std::to_string(expected) + ", got " +
                             detail::shapes_str(std::vector{a, b}), where);
  auto [x, y] = common_pair(a, bm, op, where);
  return {x, y, vec};
}

double epsilon(DType dt) {
  switch (dt) {
    case DType::f16: return std::ldexp(1.0, -10);
    case DType::bf16: return std::ldexp(1.0, -7);
    case DType::f64: return std::ldexp(1.0, -52);
    default: return std::ldexp(1.0, -23);
  }
}

}  // namespace

Tensor cholesky(const Tensor& a, Where where) {
  Tensor x = matrix_input(a, "cholesky", true, where);
  Attrs at;
  at.flag = true;  // lower
  return apply1(Op::Cholesky, std::move(at), {x}, TensorType{x.dtype(), x.shape()}, where);
}

Tensor triangular_solve(const Tensor& a, const Tensor& b, TriangularSolveOpts opts, Where where) {
  auto [x, y, vec] = solve_operands(a, b, true, !opts.left_side, opts.left_side ? -2 : -1, -1,
                                    opts.left_side ? "rows to match a's size" : "columns to match a's size",
                                    "triangular_solve", where);
  Attrs at;
  at.flag = opts.lower;
  at.flag2 = opts.left_side;
  at.flag3 = opts.transform_a == Transform::transpose;
  Tensor r = apply1(Op::TriangularSolve, std::move(at), {x, y}, TensorType{y.dtype(), y.shape()}, where);
  return vec ? squeeze(r, {opts.left_side ? -1 : -2}, where) : r;
}

Tensor solve(const Tensor& a, const Tensor& b, Where where) {
  auto [x, y, vec] = solve_operands(a, b, true, false, -2, -1, "rows to match a's size", "solve", where);
  Tensor r = apply1(Op::Solve, {}, {x, y}, TensorType{y.dtype(), y.shape()}, where);
  return vec ? squeeze(r, {-1}, where) : r;
}

std::pair<Tensor, Tensor> qr(const Tensor& a, QrOpts opts, Where where) {
  Tensor x = matrix_input(a, "qr", false, where);
  int64_t m = x.dim(-2), n = x.dim(-1), k = std::min(m, n);
  bool complete = opts.mode == QrMode::complete;
  Shape batch = batch_of(x.shape(), 2);
  Attrs at;
  at.flag = complete;
  auto r = apply(Op::Qr, std::move(at), std::vector{x},
                 {TensorType{x.dtype(), with_tail(batch, {m, complete ? m : k})},
                  TensorType{x.dtype(), with_tail(batch, {complete ? m : k, n})}},
                 where);
  return {r[0], r[1]};
}

std::pair<Tensor, Tensor> eigh(const Tensor& a, Where where) { return eigh(a, EighOpts{}, where); }

std::pair<Tensor, Tensor> eigh(const Tensor& a, EighOpts opts, Where where) {
  Tensor x = matrix_input(a, "eigh", true, where);
  int64_t n = x.dim(-1);
  if (opts.largest < 0 || opts.largest > n)
    throw ValueError("eigh", "largest must be between 0 (all) and n = " + std::to_string(n) + ", got " +
                                 std::to_string(opts.largest),
                     where);
  int64_t k = opts.largest == 0 ? n : opts.largest;
  Shape batch = batch_of(x.shape(), 2);
  Attrs at;
  at.k = k == n ? 0 : k;  // 0: every eigenpair
  auto r = apply(Op::Eigh, std::move(at), std::vector{x},
                 {TensorType{x.dtype(), with_tail(batch, {k})}, TensorType{x.dtype(), with_tail(batch, {n, k})}}, where);
  return {r[0], r[1]};
}

std::tuple<Tensor, Tensor, Tensor> svd(const Tensor& a, SvdOpts opts, Where where) {
  Tensor x = matrix_input(a, "svd", false, where);
  int64_t m = x.dim(-2), n = x.dim(-1), k = std::min(m, n);
  bool full = opts.full_matrices;
  Shape batch = batch_of(x.shape(), 2);
  Attrs at;
  at.flag = full;
  auto r = apply(Op::Svd, std::move(at), std::vector{x},
                 {TensorType{x.dtype(), with_tail(batch, {m, full ? m : k})},
                  TensorType{x.dtype(), with_tail(batch, {k})},
                  TensorType{x.dtype(), with_tail(batch, {full ? n : k, n})}},
                 where);
  return {r[0], r[1], r[2]};
}

Tensor invert(const Tensor& a, Where where) {
  Tensor x = matrix_input(a, "invert", true, where);
  Tensor id = broadcast(eye(x.dim(-1), x.dtype(), where), x.shape(), {}, where);
  return apply1(Op::Solve, {}, {x, id}, TensorType{x.dtype(), x.shape()}, where);
}

Tensor determinant(const Tensor& a, Where where) {
  Tensor x = matrix_input(a, "determinant", true, where);
  return apply1(Op::Determinant, {}, {x}, TensorType{x.dtype(), batch_of(x.shape(), 2)}, where);
}

std::tuple<Tensor, Tensor, Tensor> lu(const Tensor& a, Where where) {
  Tensor x = matrix_input(a, "lu", false, where);
  int64_t m = x.dim(-2), n = x.dim(-1), k = std::min(m, n);
  Shape batch = batch_of(x.shape(), 2);
  auto r = apply(Op::Lu, {}, std::vector{x},
                 {TensorType{x.dtype(), with_tail(batch, {m, m})}, TensorType{x.dtype(), with_tail(batch, {m, k})},
                  TensorType{x.dtype(), with_tail(batch, {k, n})}},
                 where);
  return {r[0], r[1], r[2]};
}

Tensor least_squares(const Tensor& a, const Tensor& b, LeastSquaresOpts opts, Where where) {
  auto [x, y, vec] = solve_operands(a, b, false, false, -2, -2, "rows to match a's rows", "least_squares",
                                    where);
  // x = V diag(1/s) U^T b over the singular values above the cutoff (pseudo-inverse).
  auto [u, s, vt] = svd(x, {.full_matrices = false}, where);
  double rcond = opts.rcond.value_or(epsilon(x.dtype()) * static_cast<double>(std::max(x.dim(-2), x.dim(-1))));
  Tensor cutoff = multiply(reduce_max(s, {.axes = -1, .keep_axes = true}, where), rcond, where);
  Tensor keep = greater(s, cutoff, where);
  Tensor inv_s = select(keep, divide(1.0, select(keep, s, 1.0, where), where), 0.0, where);
  Tensor ub = multiply(matmul(detail::swap_last_two(u, where), y, where), new_axis(inv_s, -1, where), where);
  Tensor r = matmul(detail::swap_last_two(vt, where), ub, where);
  return vec ? squeeze(r, {-1}, where) : r;
}

namespace {

bool is_p(const std::optional<Ord>& o, double p) { return o && o->kind == Ord::number && o->p == p; }

std::string ord_str(const Ord& o) {
  if (o.kind == Ord::frobenius) return "fro";
  if (o.kind == Ord::nuclear) return "nuc";
  if (std::isinf(o.p)) return o.p > 0 ? "inf" : "-inf";
  std::string s = std::to_string(o.p);
  s.erase(s.find_last_not_of('0') + 1);
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

Tensor vector_norm(const Tensor& x, const std::optional<Ord>& ord, int axis, bool keep, Where w) {
  ReduceOpts r{.axes = axis, .keep_axes = keep};
  if (!ord || is_p(ord, 2)) return sqrt(sum(multiply(x, x, w), r, w), w);
  if (ord->kind != Ord::number)
    throw ValueError("norm", "ord " + ord_str(*ord) + " is a matrix norm; give two axes", w);
  double p = ord->p;
  Tensor ax = abs(x, w);
  if (std::isinf(p)) return p > 0 ? reduce_max(ax, r, w) : reduce_min(ax, r, w);
  if (p == 0) return sum(as_type(not_equal(x, 0, w), x.dtype(), w), r, w);
  if (p == 1) return sum(ax, r, w);
  return pow(sum(pow(ax, p, w), r, w), 1.0 / p, w);
}

// Reduces `axis` of a keep-axes tensor with max/min.
Tensor extreme(const Tensor& x, int axis, bool max_, Where w) {
  ReduceOpts r{.axes = axis, .keep_axes = true};
  return max_ ? reduce_max(x, r, w) : reduce_min(x, r, w);
}

// The singular values of the (row, col) matrices of x, with those two axes last.
Tensor singular_values(const Tensor& x, int row, int col, Where w) {
  std::vector<int> perm;
  for (int i = 0; i < x.rank(); ++i)
    if (i != row && i != col) perm.push_back(i);
  perm.push_back(row);
  perm.push_back(col);
  return std::get<1>(svd(transpose(x, perm, w), {.full_matrices = false}, w));
}

Tensor matrix_norm(const Tensor& x, const std::optional<Ord>& ord, int row, int col, bool keep, Where w) {
  auto finish = [&](const Tensor& kept) {  // kept: rows and cols reduced with keep_axes
    return keep ? kept : squeeze(kept, {row, col}, w);
  };
  if (!ord || ord->kind == Ord::frobenius)
    return sqrt(sum(multiply(x, x, w), {.axes = {row, col}, .keep_axes = keep}, w), w);
  if (ord->kind == Ord::nuclear || is_p(ord, 2) || is_p(ord, -2)) {
    Tensor s = singular_values(x, row, col, w);
    Tensor v = ord->kind == Ord::nuclear ? sum(s, {.axes = -1}, w)
               : ord->p > 0              ? reduce_max(s, {.axes = -1}, w)
                                         : reduce_min(s, {.axes = -1}, w);
    if (!keep) return v;
    Shape s1 = x.shape();
    s1[row] = 1;
    s1[col] = 1;
    return reshape(v, s1, w);
  }
  double p = ord->p;
  // 1/-1: column sums (over rows) then max/min over columns; inf/-inf the other way round.
  bool by_cols = std::fabs(p) == 1;
  if (!by_cols && !std::isinf(p))
    throw ValueError("norm", "ord " + ord_str(*ord) + " is not a matrix norm (use fro, nuc, 1, -1, 2, -2, inf, -inf)",
                     w);
  Tensor sums = sum(abs(x, w), {.axes = by_cols ? row : col, .keep_axes = true}, w);
  return finish(extreme(sums, by_cols ? col : row, p > 0, w));
}

}  // namespace

Tensor norm(const Tensor& x, NormOpts opts, Where where) {
  DType dt = float_dtype(x, "norm", where);
  // 16-bit floats square and sum in f32 so moderate values do not overflow.
  DType ct = dt == f16 || dt == bf16 ? f32 : dt;
  Tensor xf = as_type(x, ct, where);
  std::vector<int64_t> axes;
  if (opts.axes.all()) {
    if (x.rank() == 0) throw ShapeError("norm", "expects a tensor of rank >= 1, got " + type_str(x), where);
    if (x.rank() > 2) {
      if (opts.ord)
        throw ShapeError("norm", "ord " + ord_str(*opts.ord) + " needs 1 or 2 axes for a tensor of rank " +
                                     std::to_string(x.rank()) + ", got " + type_str(x), where);
      Tensor r = sqrt(sum(multiply(xf, xf, where), {.keep_axes = opts.keep_axes}, where), where);
      return as_type(r, dt, where);
    }
    for (int i = 0; i < x.rank(); ++i) axes.push_back(i);
  } else {
    detail::normalize_axes(opts.axes, x.rank(), "norm", where);  // range and repeat checks
    // In the given order: the first axis holds the rows of a matrix norm.
    for (int a : opts.axes.list()) axes.push_back(detail::normalize_axis(a, x.rank(), "norm", where));
  }
  Tensor r;
  if (axes.size() == 1) {
    r = vector_norm(xf, opts.ord, static_cast<int>(axes[0]), opts.keep_axes, where);
  } else if (axes.size() == 2) {
    r = matrix_norm(xf, opts.ord, static_cast<int>(axes[0]), static_cast<int>(axes[1]), opts.keep_axes, where);
  } else {
    throw AxisError("norm", "expects 1 axis (vector norm) or 2 (matrix norm), got " + std::to_string(axes.size()),
                    where);
  }
  return as_type(r, dt, where);
}

}  // namespace nx::linalg
