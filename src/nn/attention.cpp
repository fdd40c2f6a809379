// Multi-head attention, as torch.nn.MultiheadAttention (batch first).
#include "nx/nn/attention.hpp"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "nn/describe.hpp"
#include "nx/composites.hpp"
#include "nx/ops.hpp"
#include "nx/random.hpp"

namespace nx::nn {

namespace {

// x (N, L, E) W^T + b for the rows [first, first + E) of the stacked weight (and bias).
Tensor project(const Tensor& x, const Tensor& w, const Tensor& b, int64_t first, int64_t e) {
  Tensor y = dot(x, {2}, slice_along_axis(w, 0, first, e), {1});
  return b.defined() ? y + slice_along_axis(b, 0, first, e) : y;
}

}  // namespace

Layer multi_head_attention(int64_t num_heads, AttentionOpts opts, Where where) {
  const char* op = "nn.multi_head_attention";
  if (num_heads < 1) throw ValueError(op, "num_heads must be positive, given " + std::to_string(num_heads), where);
  if (!(opts.dropout >= 0 && opts.dropout < 1))
    throw ValueError(op, "dropout must be in [0, 1), given " + detail::number_str(opts.dropout), where);
  const int64_t heads = num_heads;
  return layer(
      "multi_head_attention",
      [=](Scope& s, const std::vector<Tensor>& xs) {
        if (xs.size() != 1 && xs.size() != 3)
          throw ValueError(op, "takes one input (self-attention) or three (query, key, value), given " +
                                   std::to_string(xs.size()));
        const bool self = xs.size() == 1;
        const Tensor& query = xs[0];
        const Tensor& key = self ? xs[0] : xs[1];
        const Tensor& value = self ? xs[0] : xs[2];
        auto describe = [&] {
          return self ? query.shape().str()
                      : "query " + query.shape().str() + ", key " + key.shape().str() + ", value " + value.shape().str();
        };
        if (query.rank() != 3 || key.rank() != 3 || value.rank() != 3)
          throw ShapeError(op, "expects batch-first sequences (N, L, E), given " + describe());
        const int64_t n = query.shape()[0], l = query.shape()[1], e = query.shape()[2], len = key.shape()[1];
        if (key.shape()[0] != n || value.shape()[0] != n || key.shape()[2] != e || value.shape()[2] != e ||
            value.shape()[1] != len)
          throw ShapeError(op, "key and value need the query's batch and embedding sizes and one length, given " +
                                   describe());
        if (e % heads)
          throw ShapeError(op, "the embedding size E = " + std::to_string(e) + " must be a multiple of num_heads = " +
                                   std::to_string(heads) + ", given " + describe());
        const int64_t dh = e / heads;
        const Initializer out_init = opts.output_initializer ? opts.output_initializer
                                                             : initializers::uniform(-1 / std::sqrt(double(e)), 1 / std::sqrt(double(e)));
        Tensor w_in = s.param("in_proj_weight", {3 * e, e}, opts.kernel_initializer);
        Tensor b_in = opts.use_bias ? s.param("in_proj_bias", {3 * e}, opts.bias_initializer) : Tensor();
        Tensor w_out = s.param("out_proj_weight", {e, e}, out_init);
        Tensor b_out = opts.use_bias ? s.param("out_proj_bias", {e}, opts.bias_initializer) : Tensor();

        Tensor q, k, v;
        if (self) {  // one matmul for the three projections
          Tensor qkv = dot(query, {2}, w_in, {1});
          if (b_in.defined()) qkv = qkv + b_in;
          q = slice_along_axis(qkv, 2, 0, e);
          k = slice_along_axis(qkv, 2, e, e);
          v = slice_along_axis(qkv, 2, 2 * e, e);
        } else {
          q = project(query, w_in, b_in, 0, e);
          k = project(key, w_in, b_in, e, e);
          v = project(value, w_in, b_in, 2 * e, e);
        }
        q = reshape(q, Shape{n, l, heads, dh}) * (1.0 / std::sqrt(double(dh)));
        k = reshape(k, Shape{n, len, heads, dh});
        v = reshape(v, Shape{n, len, heads, dh});
        Tensor scores = dot(q, {3}, {0, 2}, k, {3}, {0, 2});  // (N, heads, L, S)
        if (opts.causal) {
          Tensor future = iota(Shape{l, len}, DType::i64, 1) > iota(Shape{l, len}, DType::i64, 0);
          scores = select(future, full(Shape{}, -std::numeric_limits<double>::infinity(), scores.dtype()), scores);
        }
        Tensor weights = softmax(scores, {.axis = -1});
        if (s.training() && opts.dropout > 0) {
          Tensor keep = random::bernoulli(s.key(), 1.0 - opts.dropout, weights.shape());
          weights = select(keep, weights * (1.0 / (1.0 - opts.dropout)), zeros_like(weights));
        }
        Tensor o = dot(weights, {3}, {0, 1}, v, {1}, {0, 2});  // (N, heads, L, dh)
        o = reshape(transpose(o, {0, 2, 1, 3}), Shape{n, l, e});
        Tensor y = dot(o, {2}, w_out, {1});
        return b_out.defined() ? y + b_out : y;
      },
      -1,
      detail::options_str({{"heads", std::to_string(heads)},
                           {"causal", opts.causal ? "true" : ""},
                           {"dropout", opts.dropout > 0 ? detail::number_str(opts.dropout) : ""},
                           {"bias", opts.use_bias ? "" : "false"}}));
}

}  // namespace nx::nn
