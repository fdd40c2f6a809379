#include "conv.hpp"

#include "device.hpp"
#include "kernels.hpp"
#include "nx/error.hpp"

namespace nx::cuda_backend {

std::optional<ConvPlan> plan_conv(const Attrs& at, DType t, const Shape& x, const Shape& kernel, const Shape& out) {
  int ns = x.rank() - 2;
  if ((t != DType::f32 && t != DType::f64) || ns < 1 || at.k2 > 1) return std::nullopt;
  for (int i = 0; i < ns; ++i) {
    auto u = static_cast<size_t>(i);
    if (at.lhs_dilation[u] != 1 || at.lo[u] < 0 || at.hi[u] < 0) return std::nullopt;
  }
  if (x.size() == 0 || kernel.size() == 0 || out.size() == 0) return std::nullopt;
  int64_t groups = std::max<int64_t>(at.k, 1), N = x[0], C = x[1], O = kernel[0];
  int64_t taps = 1, positions = 1;
  for (int i = 0; i < ns; ++i) taps *= kernel[2 + i], positions *= out[2 + i];

  // Columns (N, C, K..., P...) read from the padded input (N, C, H + lo + hi, ...).
  Shape padded{N, C};
  for (int i = 0; i < ns; ++i) padded.push_back(x[2 + i] + at.lo[static_cast<size_t>(i)] + at.hi[static_cast<size_t>(i)]);
  auto padded_strides = padded.strides();
  auto x_strides = x.strides();
  View windows, unpad;
  windows.shape = {N, C};
  windows.strides = {padded_strides[0], padded_strides[1]};
  for (int i = 0; i < ns; ++i) {
    windows.shape.push_back(kernel[2 + i]);
    windows.strides.push_back(at.rhs_dilation[static_cast<size_t>(i)] * padded_strides[static_cast<size_t>(2 + i)]);
  }
  for (int i = 0; i < ns; ++i) {
    windows.shape.push_back(out[2 + i]);
    windows.strides.push_back(at.strides[static_cast<size_t>(i)] * padded_strides[static_cast<size_t>(2 + i)]);
  }
  windows.lo.assign(windows.shape.size(), 0);
  windows.hi = windows.shape;
  unpad.shape = padded.to_vector();
  unpad.strides = {x_strides[0], x_strides[1]};
  unpad.lo = {0, 0};
  unpad.hi = {N, C};
  for (int i = 0; i < ns; ++i) {
    auto u = static_cast<size_t>(i);
    unpad.strides.push_back(x_strides[2 + u]);
    unpad.offset -= at.lo[u] * x_strides[2 + u];
    unpad.lo.push_back(at.lo[u]);
    unpad.hi.push_back(at.lo[u] + x[2 + i]);
  }
  ConvPlan plan;
  plan.columns_shape = Shape(std::span<const int64_t>(windows.shape));
  KernelSpec& s = plan.columns;
  s.inputs = {{t, KernelSpec::Access::full}, {t, KernelSpec::Access::scalar}};
  s.maps = {{windows, unpad}};
  s.code = {{.op = Op::Parameter, .dtype = t, .operands = {}, .input = 0, .per_row = false, .map = 0},
            {.op = Op::Parameter, .dtype = t, .operands = {}, .input = 1, .per_row = false, .map = -1},
            {.op = Op::Pad, .dtype = t, .operands = {0, 1}, .input = -1, .per_row = false, .map = 0}};
  s.outputs = {2};

  // Per group g, for every batch n: out[n, g] (O/G, P) = kernel[g] (O/G, C/G * K) x
  // columns[n, g] (C/G * K, P), row-major; in cuBLASLt's column-major terms the
  // transposes: (P, O/G) = columns^T (P, C/G * K) x kernel^T (C/G * K, O/G).
  int64_t og = O / groups, ckg = C / groups * taps;
  for (int64_t g = 0; g < groups; ++g) {
    ConvProduct p;
    p.a_offset = g * ckg * positions;
    p.b_offset = g * og * ckg;
    p.d_offset = g * og * positions;
    p.a = {.rows = positions, .cols = ckg, .ld = positions, .batch_stride = C * taps * positions, .transposed = false};
    p.b = {.rows = ckg, .cols = og, .ld = ckg, .batch_stride = 0, .transposed = false};
    p.ld_d = positions, p.d_stride = O * positions, p.m = positions, p.n = og, p.k = ckg, p.batch = N;
    plan.products.push_back(p);
  }
  return plan;
}

BufferPtr conv(const Node& n, std::span<const Operand> in, Backend& be) {
  DType t = n.outputs[0].dtype;
  std::optional<ConvPlan> plan = plan_conv(n.attrs, t, in[0].type.shape, in[1].type.shape, n.outputs[0].shape);
  if (!plan || in[0].type.dtype != t || in[1].type.dtype != t) return nullptr;
  const Device& d = need_device();
  BufferPtr zero = be.allocate(item_size(t));
  check(cudaMemsetAsync(zero->data(), 0, item_size(t), d.stream), "cudaMemsetAsync");
  BufferPtr columns = be.allocate(static_cast<size_t>(plan->columns_shape.size()) * item_size(t));
  run_kernel(*load_kernel(plan->columns), {in[0].buffer->data(), zero->data()}, {columns->data()}, 1,
             plan->columns_shape.size(), be);
  BufferPtr out = be.allocate(n.outputs[0].bytes());
  auto at = [&](const BufferPtr& b, int64_t offset) { return static_cast<char*>(b->data()) + offset * static_cast<int64_t>(item_size(t)); };
  for (const ConvProduct& p : plan->products)
    lt_matmul(t, p.batch, at(columns, p.a_offset), p.a, at(in[1].buffer, p.b_offset), p.b, at(out, p.d_offset), p.ld_d,
              p.d_stride, p.m, p.n, p.k, be);
  return out;
}

}  // namespace nx::cuda_backend
