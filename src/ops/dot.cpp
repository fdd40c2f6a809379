// Front ends of dot_general and the Nx-style dot forms.
#include "nx/detail/core.hpp"

namespace nx {

Tensor dot_general(const Tensor& a, const Tensor& b, DotOpts o, Where where) {
  auto norm = [&](const std::vector<int>& ax, const Tensor& t) {
    std::vector<int64_t> out;
    for (int x : ax) {
      int n = detail::normalize_axis(x, t.rank(), "dot_general", where);
      if (std::find(out.begin(), out.end(), n) != out.end())
        throw AxisError("dot_general", "axis " + std::to_string(x) + " is repeated", where);
      out.push_back(n);
    }
    return out;
  };
  Attrs at;
  at.lhs_contract = norm(o.contract_a, a);
  at.rhs_contract = norm(o.contract_b, b);
  at.lhs_batch = norm(o.batch_a, a);
  at.rhs_batch = norm(o.batch_b, b);
  std::string both = detail::shapes_str(std::vector{a, b});
  if (at.lhs_contract.size() != at.rhs_contract.size() || at.lhs_batch.size() != at.rhs_batch.size())
    throw AxisError("dot_general", "contracting/batch axis lists differ in length for " + both, where);
  for (size_t i = 0; i < at.lhs_contract.size(); ++i)
    if (a.shape()[static_cast<int>(at.lhs_contract[i])] != b.shape()[static_cast<int>(at.rhs_contract[i])])
      throw ShapeError("dot_general", "contracting dimensions differ: " + both, where);
  for (size_t i = 0; i < at.lhs_batch.size(); ++i)
    if (a.shape()[static_cast<int>(at.lhs_batch[i])] != b.shape()[static_cast<int>(at.rhs_batch[i])])
      throw ShapeError("dot_general", "batch dimensions differ: " + both, where);
  auto used = [](const std::vector<int64_t>& x, const std::vector<int64_t>& y, int i) {
    return std::find(x.begin(), x.end(), i) != x.end() || std::find(y.begin(), y.end(), i) != y.end();
  };
  for (int64_t i : at.lhs_batch)
    if (std::find(at.lhs_contract.begin(), at.lhs_contract.end(), i) != at.lhs_contract.end())
      throw AxisError("dot_general", "an axis is both batch and contracting", where);
  Shape out;
  for (int64_t i : at.lhs_batch) out.push_back(a.shape()[static_cast<int>(i)]);
  for (int i = 0; i < a.rank(); ++i)
    if (!used(at.lhs_contract, at.lhs_batch, i)) out.push_back(a.shape()[i]);
  for (int i = 0; i < b.rank(); ++i)
    if (!used(at.rhs_contract, at.rhs_batch, i)) out.push_back(b.shape()[i]);
  DType dt = promote(a.dtype(), a.is_weak(), b.dtype(), b.is_weak());
  if (dt == DType::bool_) throw DTypeError("dot_general", "expects numbers, got " + both, where);
  Tensor ca = as_type(a, dt, where), cb = as_type(b, dt, where);
  return detail::apply1(Op::DotGeneral, std::move(at), {ca, cb}, TensorType{dt, out}, where);
}

Tensor dot(const Tensor& a, const Tensor& b, Where where) {
  if (a.rank() == 0 || b.rank() == 0) return multiply(a, b, where);
  int cb = b.rank() == 1 ? 0 : b.rank() - 2;
  return dot_general(a, b, {.contract_a = {a.rank() - 1}, .contract_b = {cb}}, where);
}

Tensor dot(const Tensor& a, std::vector<int> ca, const Tensor& b, std::vector<int> cb, Where where) {
  return dot_general(a, b, {.contract_a = std::move(ca), .contract_b = std::move(cb)}, where);
}

Tensor dot(const Tensor& a, std::vector<int> ca, std::vector<int> ba, const Tensor& b, std::vector<int> cb,
           std::vector<int> bb, Where where) {
  return dot_general(a, b, {.contract_a = std::move(ca), .contract_b = std::move(cb), .batch_a = std::move(ba),
                            .batch_b = std::move(bb)}, where);
}

}  // namespace nx
