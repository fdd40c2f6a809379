#include "conv.hpp"

#include "cudnn.hpp"
#include "device.hpp"
#include "kernels.hpp"
#include "nx/error.hpp"

namespace nx::cuda_backend {

std::optional<ConvPlan> plan_conv(const Attrs& at, DType t, const Shape& x, const Shape& kernel, const Shape& out) {
  int ns = x.rank() - 2;
  bool floating = t == DType::f32 || t == DType::f64 || t == DType::bf16 || t == DType::f16;
  if (!floating || ns < 1 || ns > 3 || (at.k2 > 1 && at.k > 1)) return std::nullopt;  // 3: columns' rank <= 8
  if (x.size() == 0 || kernel.size() == 0 || out.size() == 0) return std::nullopt;
  int64_t groups = std::max<int64_t>(at.k, 1), N = x[0], C = x[1], O = kernel[0];
  int64_t taps = 1, positions = 1;
  for (int i = 0; i < ns; ++i) taps *= kernel[2 + i], positions *= out[2 + i];

  // Columns (N, C, K..., P...) read from the input as the convolution sees it: dilated
  // (lhs_dilation - 1 zeros between elements) and padded by lo and hi (cropped where
  // negative). Along each spatial dim a window reads position t = p * stride + k *
  // kernel_dilation - lo + pre * d (pre steps of the dilation d in front keep t >= 0),
  // which the second view splits into (t / d, t % d): x's element t / d - pre where the
  // phase t % d is 0 and that element exists, else zero. The space the first view
  // addresses is therefore (N, C, B_0, d_0, B_1, d_1, ...).
  Shape space{N, C};
  std::vector<int64_t> pre(static_cast<size_t>(ns));
  for (int i = 0; i < ns; ++i) {
    auto u = static_cast<size_t>(i);
    int64_t d = at.lhs_dilation[u], lo = at.lo[u];
    pre[u] = lo > 0 ? (lo + d - 1) / d : 0;
    int64_t last = (out[2 + i] - 1) * at.strides[u] + (kernel[2 + i] - 1) * at.rhs_dilation[u] - lo + pre[u] * d;
    space.push_back(last / d + 1);
    space.push_back(d);
  }
  auto space_strides = space.strides();
  auto x_strides = x.strides();
  View windows, unpad;
  windows.shape = {N, C};
  windows.strides = {space_strides[0], space_strides[1]};
  auto unit = [&](int i) { return space_strides[static_cast<size_t>(3 + 2 * i)]; };  // t's step along dim i
  for (int i = 0; i < ns; ++i) {
    auto u = static_cast<size_t>(i);
    windows.shape.push_back(kernel[2 + i]);
    windows.strides.push_back(at.rhs_dilation[u] * unit(i));
    windows.offset += (pre[u] * at.lhs_dilation[u] - at.lo[u]) * unit(i);
  }
  for (int i = 0; i < ns; ++i) {
    windows.shape.push_back(out[2 + i]);
    windows.strides.push_back(at.strides[static_cast<size_t>(i)] * unit(i));
  }
  windows.lo.assign(windows.shape.size(), 0);
  windows.hi = windows.shape;
  unpad.shape = space.to_vector();
  unpad.strides = {x_strides[0], x_strides[1]};
  unpad.lo = {0, 0};
  unpad.hi = {N, C};
  for (int i = 0; i < ns; ++i) {
    auto u = static_cast<size_t>(i);
    unpad.strides.insert(unpad.strides.end(), {x_strides[2 + u], 0});
    unpad.offset -= pre[u] * x_strides[2 + u];
    unpad.lo.insert(unpad.lo.end(), {pre[u], 0});
    unpad.hi.insert(unpad.hi.end(), {pre[u] + x[2 + i], 1});
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
  // transposes: (P, O/G) = columns^T (P, C/G * K) x kernel^T (C/G * K, O/G). Batch groups
  // (a grouped convolution's kernel gradient) instead split the input's batch: output
  // features g read all channels of input batches g * N/G .. (g + 1) * N/G - 1.
  int64_t bgroups = std::max<int64_t>(at.k2, 1), count = groups * bgroups;  // one of the two is 1
  int64_t og = O / count, ckg = C / groups * taps, batches = N / bgroups;
  for (int64_t g = 0; g < count; ++g) {
    ConvProduct p;
    p.a_offset = bgroups > 1 ? g * batches * C * taps * positions : g * ckg * positions;
    p.b_offset = g * og * ckg;
    p.d_offset = g * og * positions;
    p.a = {.rows = positions, .cols = ckg, .ld = positions, .batch_stride = C * taps * positions, .transposed = false};
    p.b = {.rows = ckg, .cols = og, .ld = ckg, .batch_stride = 0, .transposed = false};
    p.ld_d = positions, p.d_stride = O * positions, p.m = positions, p.n = og, p.k = ckg, p.batch = batches;
    plan.products.push_back(p);
  }
  return plan;
}

bool conv_supported(const Node& n, std::span<const Operand> in) {
  DType t = n.outputs[0].dtype;
  return in[0].type.dtype == t && in[1].type.dtype == t &&
         plan_conv(n.attrs, t, in[0].type.shape, in[1].type.shape, n.outputs[0].shape).has_value();
}

BufferPtr conv(const Node& n, std::span<const Operand> in, Backend& be) {
  if (BufferPtr out = cudnn_conv(n, in, be)) return out;
  DType t = n.outputs[0].dtype;
  std::optional<ConvPlan> plan = plan_conv(n.attrs, t, in[0].type.shape, in[1].type.shape, n.outputs[0].shape);
  if (!plan) throw Error("cuda", "conv: no device plan for these shapes");
  BufferPtr zero = be.allocate(item_size(t));
  check(cudaMemsetAsync(zero->data(), 0, item_size(t), stream()), "cudaMemsetAsync");
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
