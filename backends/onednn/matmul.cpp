// dot_general -> dnnl::matmul. Each operand's batch, free and contracting dims must merge
// into one strided dim each (true for x @ w, x @ w^T, batched attention products...), so
// transposes are folded into memory descriptors, never copied. Primitives are cached by
// dims, strides and dtype.
#include "kernels.hpp"

#include <algorithm>
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

#include "dnnl_common.hpp"
#include "nx/detail/blas.hpp"
#include "nx/detail/dot_axes.hpp"

namespace nx::onednn {
namespace {

using dims = dnnl::memory::dims;

std::string key_of(const dims& a, const dims& as, const dims& b, const dims& bs, const dims& c, DType t) {
  std::string k(1, static_cast<char>(t));
  for (const dims* v : {&a, &as, &b, &bs, &c}) {
    k.append(reinterpret_cast<const char*>(v->data()), v->size() * sizeof(int64_t));  // fixed widths: unambiguous
    k += ';';
  }
  return k;
}

// The addend of a fused add as a (B, M, N) view: a full row-major tensor of the result's
// shape, or a vector along the result's last axis when that axis is N.
std::optional<dnnl::memory::desc> addend_view(const PostOps& post, const TensorType& out, const dims& c_dims,
                                              dnnl::memory::data_type dt) {
  if (!post.addend) return dnnl::memory::desc();
  const Input& a = *post.addend;
  if (!is_row_major(a.held, a.type) || a.type.dtype != out.dtype) return std::nullopt;
  if (a.type.shape == out.shape) return dnnl::memory::desc(c_dims, dt, row_major_strides(c_dims));
  int64_t n = c_dims[2];
  if (a.type.shape.size() != n || out.shape[out.shape.rank() - 1] != n || a.type.shape[a.type.shape.rank() - 1] != n)
    return std::nullopt;
  return dnnl::memory::desc({1, 1, n}, dt, dims{n, n, 1});
}

// x^T x (both operands one buffer, the product symmetric): OpenBLAS's syrk where it
// loads, else the blocks on and below the diagonal of a P x P split, each a matmul on
// strided views of the buffer, then the others mirrored: (P + 1) / 2P of the work (a
// PCA's 784 x 784 covariance over 60000 samples, the fit's largest step). nullopt where a
// primitive cannot be made.
// Two parts: four (10/16 of the work) ran slower on 784 x 784 (1.3x the time), oneDNN
// being less efficient on the narrower strided blocks.
constexpr int64_t kGramParts = 2;

// Above the diagonal: the transpose of below (m x m, row-major).
void mirror_lower(char* c, int64_t m, int64_t item) {
  for (int64_t r = 0; r < m; ++r)
    for (int64_t col = r + 1; col < m; ++col)
      std::memcpy(c + (r * m + col) * item, c + (col * m + r) * item, static_cast<size_t>(item));
}

std::optional<BufferPtr> gram(const dims& a_str, const dims& b_str, int64_t M, int64_t K, dnnl::memory::data_type dt,
                              DType type, const char* base, Backend& be, size_t bytes) {
  BufferPtr out = be.allocate(bytes);
  // OpenBLAS's syrk where it loads (half the flops, in its tuned kernels: 170 ms for
  // 60000 x 784 against 240 for the blocks below), when one of a's axes is contiguous.
  const detail::Blas* lib = detail::blas();
  bool rows_whole = a_str[2] == 1, cols_whole = a_str[1] == 1;  // a as [M, K] or as [K, M] row-major
  if (type == DType::f32 && lib && lib->ssyrk && (rows_whole || cols_whole) && K < (int64_t{1} << 31)) {
    int64_t lda = rows_whole ? a_str[1] : a_str[2];
    lib->ssyrk(detail::kBlasRowMajor, detail::kBlasLower, rows_whole ? detail::kBlasNoTrans : detail::kBlasTrans,
               static_cast<int>(M), static_cast<int>(K), 1.0f, reinterpret_cast<const float*>(base), static_cast<int>(lda),
               0.0f, static_cast<float*>(out->data()), static_cast<int>(M));
    mirror_lower(static_cast<char*>(out->data()), M, 4);
    count("matmul_gram");
    return out;
  }
  int64_t item = static_cast<int64_t>(item_size(type)), parts = kGramParts;
  std::vector<int64_t> starts, sizes;
  for (int64_t p = 0; p < parts; ++p) {
    starts.push_back(M * p / parts);
    sizes.push_back(M * (p + 1) / parts - starts.back());
  }
  dnnl::engine& e = engine();
  for (int64_t i = 0; i < parts; ++i)
    for (int64_t j = 0; j <= i; ++j) {
      dims ad{1, sizes[i], K}, bd{1, K, sizes[j]}, cd{1, sizes[i], sizes[j]}, cs{M * M, M, 1};
      std::string key = "gram" + key_of(ad, a_str, bd, b_str, cd, type);
      auto prim = cached<dnnl::matmul>(key, [&] {
        dnnl::matmul::desc d({ad, dt, a_str}, {bd, dt, b_str}, {cd, dt, cs});
        return std::make_shared<dnnl::matmul>(dnnl::matmul::primitive_desc(d, dnnl::primitive_attr(), engine()));
      });
      if (!prim) return std::nullopt;
      dnnl::memory am({ad, dt, a_str}, e, const_cast<char*>(base) + starts[i] * a_str[1] * item);
      dnnl::memory bm({bd, dt, b_str}, e, const_cast<char*>(base) + starts[j] * b_str[2] * item);
      dnnl::memory cm({cd, dt, cs}, e, static_cast<char*>(out->data()) + (starts[i] * M + starts[j]) * item);
      execute(*prim, {{DNNL_ARG_SRC, am}, {DNNL_ARG_WEIGHTS, bm}, {DNNL_ARG_DST, cm}});
    }
  // Above the diagonal blocks: the transposes of those below (the diagonal blocks are
  // whole, so mirroring all of the lower triangle rewrites them with equal values).
  mirror_lower(static_cast<char*>(out->data()), M, item);
  count("matmul_gram");
  return out;
}

}  // namespace

std::optional<HeldValues> matmul(const Node& n, std::span<const Input> in, Backend& be, const PostOps& post) {
  const Attrs& at = n.attrs;
  const TensorType &ta = in[0].type, &tb = in[1].type;
  auto dt = dnnl_type(ta.dtype);
  bool floating = ta.dtype == DType::f32 || ta.dtype == DType::bf16 || ta.dtype == DType::f16;
  if (!floating || tb.dtype != ta.dtype || n.outputs[0].dtype != ta.dtype) return std::nullopt;  // f64, ints: interp
  auto sa_ = strides_of(in[0].held), sb_ = strides_of(in[1].held);
  if (!sa_ || !sb_) return std::nullopt;  // blocked: the caller reorders to row-major
  const std::vector<int64_t> &sa = *sa_, &sb = *sb_;
  using detail::merge_axes, detail::free_axes;
  auto batch_a = merge_axes(ta.shape, sa, at.lhs_batch), batch_b = merge_axes(tb.shape, sb, at.rhs_batch);
  auto k_a = merge_axes(ta.shape, sa, at.lhs_contract), k_b = merge_axes(tb.shape, sb, at.rhs_contract);
  auto m = merge_axes(ta.shape, sa, free_axes(ta.shape.rank(), at.lhs_contract, at.lhs_batch));
  auto nn = merge_axes(tb.shape, sb, free_axes(tb.shape.rank(), at.rhs_contract, at.rhs_batch));
  if (!batch_a || !batch_b || !k_a || !k_b || !m || !nn) return std::nullopt;
  int64_t B = batch_a->size, M = m->size, N = nn->size, K = k_a->size;
  if (B == 0 || M == 0 || N == 0 || K == 0) return std::nullopt;  // nothing to multiply: interp
  // Half types without batch dims get the batch stride of a plain layout: oneDNN's brgemm
  // kernels (bf16 on AVX512_BF16: 3x the speed of its fallback) take only such layouts.
  // f32 keeps the merged stride, which leads oneDNN to its sgemm (15% faster than brgemm here).
  bool plain_batch = B == 1 && ta.dtype != DType::f32;
  dims a_dims{B, M, K}, a_str{plain_batch ? M * K : batch_a->stride, m->stride, k_a->stride};
  dims b_dims{B, K, N}, b_str{plain_batch ? K * N : batch_b->stride, k_b->stride, nn->stride};
  dims c_dims{B, M, N}, c_str{M * N, N, 1};
  if (post.empty() && B == 1 && M == N && M >= 256 && K >= M && in[0].held.buffer->data() == in[1].held.buffer->data() &&
      a_str[1] == b_str[2] && a_str[2] == b_str[1])
    if (auto out = gram(a_str, b_str, M, K, *dt, ta.dtype, static_cast<const char*>(in[0].held.buffer->data()), be,
                        n.outputs[0].bytes("dot_general", n.where)))
      return HeldValues{plain(n.outputs[0], *out)};
  auto addend = addend_view(post, n.outputs[0], c_dims, *dt);
  if (!addend) return std::nullopt;
  std::string key = key_of(a_dims, a_str, b_dims, b_str, c_dims, ta.dtype);
  dnnl::primitive_attr attr = post_op_attr(post, *addend, key);
  std::shared_ptr<dnnl::matmul> prim = cached<dnnl::matmul>(key, [&] {
    dnnl::matmul::desc d({a_dims, *dt, a_str}, {b_dims, *dt, b_str}, {c_dims, *dt, c_str});
    return std::make_shared<dnnl::matmul>(dnnl::matmul::primitive_desc(d, attr, engine()));
  });
  if (!prim) return std::nullopt;
  BufferPtr out = be.allocate(n.outputs[0].bytes("dot_general", n.where));
  dnnl::engine& e = engine();
  dnnl::memory am({a_dims, *dt, a_str}, e, in[0].held.buffer->data());
  dnnl::memory bm({b_dims, *dt, b_str}, e, in[1].held.buffer->data());
  dnnl::memory cm({c_dims, *dt, c_str}, e, out->data());
  std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, am}, {DNNL_ARG_WEIGHTS, bm}, {DNNL_ARG_DST, cm}};
  if (post.addend) args[kAddendArg] = dnnl::memory(*addend, e, post.addend->held.buffer->data());
  execute(*prim, std::move(args));
  count(post.empty() ? "matmul" : "matmul+post_ops");
  return HeldValues{plain(n.outputs[0], out)};
}

}  // namespace nx::onednn
