// Printing in the style of Nx: dtype, shape, then nested values, truncated when large.
#include <charconv>
#include <cmath>
#include <ostream>
#include <sstream>

#include "nx/detail/core.hpp"

namespace nx {
namespace {

std::string format_float(double v, bool single) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Inf" : "-Inf";
  char buf[64];
  auto res = single ? std::to_chars(buf, buf + sizeof buf, static_cast<float>(v))
                    : std::to_chars(buf, buf + sizeof buf, v);
  std::string s(buf, res.ptr);
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

struct Printer {
  std::vector<double> f;
  std::vector<int64_t> i;
  bool is_f = false, single = false, is_bool = false;
  int64_t limit = 30;
  int64_t printed = 0;
  std::string elem(int64_t k) const {
    if (is_f) return format_float(f[static_cast<size_t>(k)], single);
    if (is_bool) return i[static_cast<size_t>(k)] ? "true" : "false";
    return std::to_string(i[static_cast<size_t>(k)]);
  }
  void rec(std::ostream& os, const Shape& s, int axis, int64_t offset, int64_t stride, int indent) {
    std::string pad(static_cast<size_t>(indent), ' ');
    int64_t n = s[axis];
    int64_t inner = stride / (n == 0 ? 1 : n);
    if (axis == s.rank() - 1) {
      os << pad << "[";
      for (int64_t k = 0; k < n; ++k) {
        if (printed >= limit) { os << (k ? ", ..." : "..."); break; }
        os << (k ? ", " : "") << elem(offset + k);
        ++printed;
      }
      os << "]";
      return;
    }
    os << pad << "[\n";
    for (int64_t k = 0; k < n; ++k) {
      if (printed >= limit) { os << pad << "  ...\n"; break; }
      rec(os, s, axis + 1, offset + k * inner, inner, indent + 2);
      os << (k + 1 < n ? ",\n" : "\n");
    }
    os << pad << "]";
  }
};

}  // namespace

std::ostream& operator<<(std::ostream& os, DType t) { return os << name(t); }
std::ostream& operator<<(std::ostream& os, const Shape& s) { return os << s.str(); }

std::string to_string(const Tensor& t, int64_t limit) {
  if (!t.defined()) return "nx::Tensor<undefined>";
  std::ostringstream os;
  os << "nx::Tensor<\n  " << name(t.dtype());
  for (int64_t d : t.shape()) os << "[" << d << "]";
  if (t.is_weak()) os << " (weak)";
  if (t.is_traced()) {
    os << "\n  traced by nx::jit\n>";
    return os.str();
  }
  Printer p;
  p.limit = limit;
  p.is_f = is_float(t.dtype());
  p.single = t.dtype() != DType::f64;
  p.is_bool = t.dtype() == DType::bool_;
  // Elements print in row-major order, so only the first `limit` are read.
  Tensor head = t.size() > limit ? slice(reshape(t, {t.size()}), {0}, {limit}) : t;
  if (p.is_f) {
    p.f = head.to_vector<double>();
  } else {
    p.i = head.to_vector<int64_t>();
  }
  os << "\n";
  if (t.rank() == 0) {
    os << "  " << p.elem(0);
  } else {
    p.rec(os, t.shape(), 0, 0, t.size(), 2);
  }
  os << "\n>";
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) { return os << to_string(t); }

}  // namespace nx
