// Shape arithmetic shared by conv and the window reductions (XLA window semantics):
// option lists, 'same'/'valid'/explicit padding and the output size of each dimension.
#pragma once
#include <algorithm>
#include <string>
#include <tuple>
#include <vector>

#include "nx/ops.hpp"

namespace nx::detail {

// `v`, or n copies of 1 when empty; every entry must be >= `min`.
inline std::vector<int64_t> window_option(const std::vector<int64_t>& v, size_t n, int64_t min,
                                          const char* what, const char* op, const std::string& ctx,
                                          Where where) {
  if (v.empty()) return std::vector<int64_t>(n, 1);
  if (v.size() != n)
    throw ValueError(op, std::string(what) + " needs " + std::to_string(n) + " entries, got " +
                             std::to_string(v.size()) + " for " + ctx, where);
  for (int64_t x : v)
    if (x < min)
      throw ValueError(op, std::string(what) + " must be >= " + std::to_string(min) + ", got " +
                               std::to_string(x) + " for " + ctx, where);
  return v;
}

// One dimension of a windowed op, before padding is resolved.
struct WindowDim {
  int64_t in = 0;              // input size
  int64_t window = 1;          // window (kernel) size, > 0
  int64_t stride = 1;
  int64_t base_dilation = 1;   // conv input dilation
  int64_t window_dilation = 1;
};

struct WindowShape {
  std::vector<int64_t> lo, hi, out;
};

// Throws ValueError on int64 overflow, so absurd options fail cleanly instead of wrapping.
inline int64_t checked(bool overflow, int64_t v, const char* op, Where where) {
  if (overflow) throw ValueError(op, "window sizes overflow int64", where);
  return v;
}
inline int64_t dilated(int64_t n, int64_t d, const char* op, Where where) {
  if (n == 0) return 0;
  int64_t m = 0;
  bool o = __builtin_mul_overflow(n - 1, d, &m);
  o = o || __builtin_add_overflow(m, 1, &m);
  return checked(o, m, op, where);
}

// Resolves the padding of every dimension and the output sizes. 'same' gives
// ceil(dilated_in / stride) outputs with the least padding, the odd unit at the high side
// (the TensorFlow/JAX rule). Explicit padding may be negative (it crops), as in XLA.
inline WindowShape window_shape(const std::vector<WindowDim>& dims, const Padding& padding, const char* op,
                                const std::string& ctx, Where where) {
  WindowShape s;
  if (padding.mode == PaddingMode::explicit_ && padding.pairs.size() != dims.size())
    throw ValueError(op, "padding needs " + std::to_string(dims.size()) + " (lo, hi) pairs, got " +
                             std::to_string(padding.pairs.size()) + " for " + ctx, where);
  for (size_t i = 0; i < dims.size(); ++i) {
    const WindowDim& d = dims[i];
    int64_t in = dilated(d.in, d.base_dilation, op, where);
    int64_t win = dilated(d.window, d.window_dilation, op, where);
    int64_t lo = 0, hi = 0;
    if (padding.mode == PaddingMode::explicit_) {
      std::tie(lo, hi) = padding.pairs[i];
      if (lo < -in || hi < -in)
        throw ValueError(op, "negative padding (" + std::to_string(lo) + ", " + std::to_string(hi) +
                                 ") crops more than dimension " + std::to_string(i) + " holds in " + ctx, where);
    } else if (padding.mode == PaddingMode::same) {
      int64_t out = in / d.stride + (in % d.stride != 0);
      int64_t need = 0;
      bool o = __builtin_mul_overflow(out - 1, d.stride, &need);  // out - 1 = -1 for empty input
      o = o || __builtin_add_overflow(need, win - in, &need);
      int64_t total = std::max<int64_t>(checked(o, need, op, where), 0);
      lo = total / 2;
      hi = total - lo;
    }
    int64_t padded = 0;
    bool o = __builtin_add_overflow(in, lo, &padded) || __builtin_add_overflow(padded, hi, &padded);
    checked(o, padded, op, where);
    if (padded < 0)
      throw ValueError(op, "padding (" + std::to_string(lo) + ", " + std::to_string(hi) + ") leaves dimension " +
                               std::to_string(i) + " with negative size in " + ctx, where);
    s.lo.push_back(lo);
    s.hi.push_back(hi);
    s.out.push_back(padded < win ? 0 : (padded - win) / d.stride + 1);
  }
  return s;
}

}  // namespace nx::detail
