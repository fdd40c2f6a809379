// The out-of-line composites: matmul and einsum (argument parsing is not header material).
#include "nx/composites.hpp"

#include <algorithm>

#include "nx/detail/core.hpp"

namespace nx {

namespace detail {
int64_t reduced_count(const Tensor& x, const Axes& axes, Where where) {
  int64_t n = 1;
  for (int64_t a : normalize_axes(axes, x.rank(), "mean", where)) n *= x.shape()[static_cast<int>(a)];
  return n;
}
}  // namespace detail

Tensor matmul(const Tensor& a, const Tensor& b, Where where) {
  if (a.rank() == 0 || b.rank() == 0)
    throw ShapeError("matmul", "expects operands of rank >= 1, got " + detail::shapes_str(std::vector{a, b}), where);
  Tensor a2 = a.rank() == 1 ? reshape(a, {1, a.dim(0)}, where) : a;
  Tensor b2 = b.rank() == 1 ? reshape(b, {b.dim(0), 1}, where) : b;
  Shape ba, bb;
  for (int i = 0; i < a2.rank() - 2; ++i) ba.push_back(a2.dim(i));
  for (int i = 0; i < b2.rank() - 2; ++i) bb.push_back(b2.dim(i));
  if (a2.dim(-1) != b2.dim(-2))
    throw ShapeError("matmul", "inner dimensions differ: " + detail::shapes_str(std::vector{a, b}), where);
  Shape batch = broadcast_shapes(ba, bb, "matmul", where);
  auto full = [&](const Tensor& t) {
    Shape s = batch;
    s.push_back(t.dim(-2));
    s.push_back(t.dim(-1));
    return t.shape() == s ? t : broadcast(t, s, {}, where);
  };
  int nb = batch.rank();
  std::vector<int> bx(static_cast<size_t>(nb));
  for (int i = 0; i < nb; ++i) bx[static_cast<size_t>(i)] = i;
  Tensor r = dot_general(full(a2), full(b2), {.contract_a = {nb + 1}, .contract_b = {nb}, .batch_a = bx, .batch_b = bx},
                         where);
  if (a.rank() == 1 && b.rank() == 1) return reshape(r, Shape{}, where);
  if (a.rank() == 1) return squeeze(r, {r.rank() - 2}, where);
  if (b.rank() == 1) return squeeze(r, {r.rank() - 1}, where);
  return r;
}

namespace {

struct EinsumSpec {
  std::vector<std::string> inputs;
  std::string output;
};

EinsumSpec parse_einsum(const std::string& spec, const std::vector<Tensor>& xs, Where where) {
  auto fail = [&](const std::string& why) {
    return ValueError("einsum", "'" + spec + "': " + why, where);
  };
  EinsumSpec s;
  std::string lhs = spec, rhs;
  bool explicit_out = false;
  if (auto arrow = spec.find("->"); arrow != std::string::npos) {
    lhs = spec.substr(0, arrow);
    rhs = spec.substr(arrow + 2);
    explicit_out = true;
  }
  std::string cur;
  for (char c : lhs + ",") {
    if (c == ' ') continue;
    if (c == ',') {
      s.inputs.push_back(cur);
      cur.clear();
    } else if (std::isalpha(static_cast<unsigned char>(c))) {
      cur += c;
    } else {
      throw fail(std::string("unsupported character '") + c + "' (ellipsis is not supported)");
    }
  }
  if (s.inputs.size() != xs.size())
    throw fail("names " + std::to_string(s.inputs.size()) + " operands but " + std::to_string(xs.size()) +
               " were given");
  for (size_t i = 0; i < xs.size(); ++i) {
    const std::string& in = s.inputs[i];
    if (static_cast<int>(in.size()) != xs[i].rank())
      throw fail("operand " + std::to_string(i) + " has shape " + xs[i].shape().str() + " but " +
                 std::to_string(in.size()) + " letters");
    for (size_t j = 0; j < in.size(); ++j)
      if (in.find(in[j], j + 1) != std::string::npos)
        throw fail(std::string("letter '") + in[j] + "' repeats within one operand (diagonals are not supported)");
  }
  std::string all;
  for (auto& in : s.inputs) all += in;
  if (explicit_out) {
    for (char c : rhs) {
      if (c == ' ') continue;
      if (!std::isalpha(static_cast<unsigned char>(c)) || all.find(c) == std::string::npos)
        throw fail(std::string("output letter '") + c + "' is not an input letter");
      if (s.output.find(c) != std::string::npos) throw fail(std::string("output letter '") + c + "' repeats");
      s.output += c;
    }
  } else {
    for (char c : all)
      if (std::count(all.begin(), all.end(), c) == 1) s.output += c;
    std::sort(s.output.begin(), s.output.end());
  }
  return s;
}

bool has(const std::string& s, char c) { return s.find(c) != std::string::npos; }

// Sums out the letters of `x` that appear neither in `keep1` nor `keep2`.
Tensor sum_unused(const Tensor& x, std::string& letters, const std::string& keep1, const std::string& keep2,
                  Where where) {
  std::vector<int> axes;
  std::string kept;
  for (size_t i = 0; i < letters.size(); ++i) {
    if (has(keep1, letters[i]) || has(keep2, letters[i])) kept += letters[i];
    else axes.push_back(static_cast<int>(i));
  }
  letters = kept;
  return axes.empty() ? x : sum(x, {.axes = axes}, where);
}

// Transposes x (dims named by `letters`) into the order of `out`.
Tensor to_order(const Tensor& x, const std::string& letters, const std::string& out, Where where) {
  if (letters == out) return x;
  std::vector<int> perm;
  for (char c : out) perm.push_back(static_cast<int>(letters.find(c)));
  return transpose(x, perm, where);
}

}  // namespace

Tensor einsum(const std::string& spec, const Tensor& a, Where where) {
  EinsumSpec s = parse_einsum(spec, {a}, where);
  std::string la = s.inputs[0];
  Tensor x = sum_unused(a, la, s.output, "", where);
  return to_order(x, la, s.output, where);
}

Tensor einsum(const std::string& spec, const Tensor& a, const Tensor& b, Where where) {
  EinsumSpec s = parse_einsum(spec, {a, b}, where);
  std::string la = s.inputs[0], lb = s.inputs[1];
  Tensor x = sum_unused(a, la, s.output, lb, where);
  Tensor y = sum_unused(b, lb, s.output, la, where);
  DotOpts d;
  std::string batch, free_a, free_b;
  for (size_t i = 0; i < la.size(); ++i) {
    char c = la[i];
    if (!has(lb, c)) {
      free_a += c;
    } else if (has(s.output, c)) {
      batch += c;
      d.batch_a.push_back(static_cast<int>(i));
      d.batch_b.push_back(static_cast<int>(lb.find(c)));
    } else {
      d.contract_a.push_back(static_cast<int>(i));
      d.contract_b.push_back(static_cast<int>(lb.find(c)));
    }
  }
  for (char c : lb)
    if (!has(la, c)) free_b += c;
  Tensor r = dot_general(x, y, d, where);
  return to_order(r, batch + free_a + free_b, s.output, where);
}

}  // namespace nx
