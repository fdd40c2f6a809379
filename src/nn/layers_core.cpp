// Dense, shape, dropout, embedding and merge layers.
#include "nn/describe.hpp"
#include "nx/composites.hpp"
#include "nx/nn/layers.hpp"
#include "nx/random.hpp"

namespace nx::nn {

using detail::number_str;
using detail::options_str;

Layer dense(int64_t units, DenseOpts opts, Where where) {
  if (units <= 0) throw ValueError("nn.dense", "units must be positive, given " + std::to_string(units), where);
  auto act = activations::named(opts.activation, where);
  return layer(
      "dense",
      [units, opts, act](Scope& s, const std::vector<Tensor>& xs) {
        const Tensor& x = xs[0];
        if (x.rank() < 1) throw ShapeError("nn.dense", "needs an input with a feature axis, given a scalar");
        const int64_t in = x.shape()[x.rank() - 1];
        Tensor w = s.param("weight", {units, in}, opts.kernel_initializer);
        Tensor y = dot(x, {x.rank() - 1}, w, {1});
        if (opts.use_bias) y = y + s.param("bias", {units}, opts.bias_initializer);
        return act(y);
      },
      1,
      options_str({{"units", std::to_string(units)}, {"activation", opts.activation}, {"bias", opts.use_bias ? "" : "false"}}));
}

Layer flatten() {
  return layer("flatten", [](Scope&, const std::vector<Tensor>& xs) {
    const Tensor& x = xs[0];
    if (x.rank() < 1) throw ShapeError("nn.flatten", "needs a batch axis, given a scalar");
    return reshape(x, Shape{x.shape()[0], x.rank() == 1 ? 1 : x.size() / std::max<int64_t>(1, x.shape()[0])});
  });
}

Layer reshape(std::vector<int64_t> dims, Where where) {
  int unknown = 0;
  for (int64_t d : dims) {
    if (d < -1 || d == 0) throw ShapeError("nn.reshape", "dims are sizes or one -1, given " + detail::ints_str(dims), where);
    unknown += d == -1;
  }
  if (unknown > 1) throw ShapeError("nn.reshape", "at most one dim may be -1, given " + detail::ints_str(dims), where);
  return layer(
      "reshape",
      [dims](Scope&, const std::vector<Tensor>& xs) {
        const Tensor& x = xs[0];
        const int64_t n = x.shape()[0];
        const int64_t per = n == 0 ? 0 : x.size() / n;
        int64_t known = 1;
        for (int64_t d : dims) known *= d == -1 ? 1 : d;
        std::vector<int64_t> out{n};
        for (int64_t d : dims) out.push_back(d == -1 ? (known ? per / known : 0) : d);
        return reshape(x, Shape(out));
      },
      1, "dims=" + detail::ints_str(dims));
}

Layer transpose(std::vector<int> axes) {
  std::string text;
  for (int a : axes) text += (text.empty() ? "" : ", ") + std::to_string(a);
  return layer(
      "transpose",
      [axes](Scope&, const std::vector<Tensor>& xs) {
        std::vector<int> perm{0};
        for (int a : axes) {
          if (a < 1) throw AxisError("nn.transpose", "axes count from 1 (after the batch axis), given " + std::to_string(a));
          perm.push_back(a);
        }
        return nx::transpose(xs[0], perm);
      },
      1, "axes=(" + text + ")");
}

Layer dropout(double rate, Where where) {
  if (!(rate >= 0 && rate < 1)) throw ValueError("nn.dropout", "rate must be in [0, 1), given " + number_str(rate), where);
  return layer(
      "dropout",
      [rate](Scope& s, const std::vector<Tensor>& xs) {
        const Tensor& x = xs[0];
        if (!s.training() || rate == 0) return x;
        Tensor keep = random::bernoulli(s.key(), 1.0 - rate, x.shape());
        return select(keep, x * (1.0 / (1.0 - rate)), zeros_like(x));
      },
      1, "rate=" + number_str(rate));
}

Layer embedding(int64_t vocab, int64_t dim, EmbeddingOpts opts, Where where) {
  if (vocab <= 0 || dim <= 0)
    throw ValueError("nn.embedding", "vocab and dim must be positive, given " + std::to_string(vocab) + ", " + std::to_string(dim),
                     where);
  return layer(
      "embedding",
      [vocab, dim, opts](Scope& s, const std::vector<Tensor>& xs) {
        const Tensor& ids = xs[0];
        if (!is_integer(ids.dtype()))
          throw DTypeError("nn.embedding", "needs integer ids, given " + std::string(name(ids.dtype())));
        Tensor w = s.param("weight", {vocab, dim}, opts.initializer);
        return take(w, ids, {.axis = 0, .mode = IndexMode::clip});
      },
      1, "vocab=" + std::to_string(vocab) + ", dim=" + std::to_string(dim));
}

namespace {
Node merge(const std::string& op, const std::vector<Node>& xs, std::function<Tensor(const std::vector<Tensor>&)> f,
           std::string options, Where where) {
  return layer(op, [f = std::move(f)](Scope&, const std::vector<Tensor>& ts) { return f(ts); }, -1, std::move(options))(xs, where);
}
}  // namespace

Node add(const std::vector<Node>& xs, Where where) {
  return merge("add", xs, [](const std::vector<Tensor>& ts) {
    Tensor y = ts[0];
    for (size_t i = 1; i < ts.size(); ++i) y = y + ts[i];
    return y;
  }, "", where);
}
Node subtract(const Node& a, const Node& b, Where where) {
  return merge("subtract", {a, b}, [](const std::vector<Tensor>& ts) { return ts[0] - ts[1]; }, "", where);
}
Node multiply(const std::vector<Node>& xs, Where where) {
  return merge("multiply", xs, [](const std::vector<Tensor>& ts) {
    Tensor y = ts[0];
    for (size_t i = 1; i < ts.size(); ++i) y = y * ts[i];
    return y;
  }, "", where);
}
Node concatenate(const std::vector<Node>& xs, int axis, Where where) {
  return merge("concatenate", xs, [axis](const std::vector<Tensor>& ts) { return nx::concatenate(ts, axis); },
               "axis=" + std::to_string(axis), where);
}

}  // namespace nx::nn
