// Pooling layers: max and average windows, global and adaptive pooling.
#include "nn/describe.hpp"
#include "nx/composites.hpp"
#include "nx/nn/layers.hpp"

namespace nx::nn {

using detail::ints_str;

namespace {

std::vector<int> spatial_axes(const Tensor& x, const char* op) {
  if (x.rank() < 3) throw ShapeError(op, "expects (N, C, spatial...), given " + x.shape().str());
  std::vector<int> axes;
  for (int d = 2; d < x.rank(); ++d) axes.push_back(d);
  return axes;
}

// Window options over the whole tensor: 1 on the batch and channel axes.
struct Windows {
  std::vector<int64_t> window, strides, dilation;
  Padding padding;
};
Windows windows(const Tensor& x, const std::vector<int64_t>& window, const PoolOpts& o, const char* op) {
  const size_t n = window.size();
  if (x.rank() != static_cast<int>(n) + 2)
    throw ShapeError(op, "a " + std::to_string(n) + "-d window expects (N, C, " + std::to_string(n) +
                             " spatial axes), given " + x.shape().str());
  auto full = [&](const std::vector<int64_t>& v, const std::vector<int64_t>& dflt, const char* what) {
    const std::vector<int64_t>& s = v.empty() ? dflt : v;
    if (s.size() != n) throw ValueError(op, std::string(what) + " needs " + std::to_string(n) + " values, given " + ints_str(s));
    std::vector<int64_t> r{1, 1};
    r.insert(r.end(), s.begin(), s.end());
    return r;
  };
  Windows w{full(window, window, "window"), full(o.strides, window, "strides"),
            full(o.dilation, std::vector<int64_t>(n, 1), "dilation"), o.padding};
  if (o.padding.mode == PaddingMode::explicit_) {
    if (o.padding.pairs.size() != n) throw ValueError(op, "padding needs " + std::to_string(n) + " (lo, hi) pairs");
    w.padding.pairs.insert(w.padding.pairs.begin(), 2, {0, 0});
  }
  return w;
}

std::string pool_options(const std::vector<int64_t>& window, const PoolOpts& o) {
  return detail::options_str({{"window", ints_str(window)},
                              {"strides", o.strides.empty() ? "" : ints_str(o.strides)},
                              {"padding", o.padding.mode == PaddingMode::valid ? "" : detail::padding_str(o.padding)}});
}

void check_window(const std::vector<int64_t>& window, const char* op, Where where) {
  if (window.empty()) throw ValueError(op, "needs a window size per spatial axis", where);
  for (int64_t k : window)
    if (k < 1) throw ValueError(op, "window sizes must be positive, given " + ints_str(window), where);
}

}  // namespace

Layer max_pool(std::vector<int64_t> window, PoolOpts opts, Where where) {
  check_window(window, "nn.max_pool", where);
  return layer(
      "max_pool",
      [=](Scope&, const std::vector<Tensor>& xs) {
        Windows w = windows(xs[0], window, opts, "nn.max_pool");
        return window_max(xs[0], w.window, {.strides = w.strides, .padding = w.padding, .window_dilations = w.dilation});
      },
      1, pool_options(window, opts));
}

Layer avg_pool(std::vector<int64_t> window, PoolOpts opts, Where where) {
  check_window(window, "nn.avg_pool", where);
  return layer(
      "avg_pool",
      [=](Scope&, const std::vector<Tensor>& xs) {
        const Tensor& x = xs[0];
        Windows w = windows(x, window, opts, "nn.avg_pool");
        WindowOpts wo{.strides = w.strides, .padding = w.padding, .window_dilations = w.dilation};
        Tensor total = window_sum(x, w.window, wo);
        if (opts.count_include_pad || opts.padding.mode == PaddingMode::valid) {
          int64_t count = 1;
          for (int64_t k : window) count *= k;
          return total / double(count);
        }
        // Only the elements inside the input count: the same windows over ones.
        std::vector<int64_t> one_dims(x.rank(), 1);
        for (int d = 2; d < x.rank(); ++d) one_dims[d] = x.shape()[d];
        Tensor counts = window_sum(ones(Shape(one_dims), x.dtype()), w.window, wo);
        return total / counts;
      },
      1, pool_options(window, opts));
}

Layer global_avg_pool(bool keep_axes) {
  return layer("global_avg_pool", [keep_axes](Scope&, const std::vector<Tensor>& xs) {
    return mean(xs[0], {.axes = spatial_axes(xs[0], "nn.global_avg_pool"), .keep_axes = keep_axes});
  });
}
Layer global_max_pool(bool keep_axes) {
  return layer("global_max_pool", [keep_axes](Scope&, const std::vector<Tensor>& xs) {
    return reduce_max(xs[0], {.axes = spatial_axes(xs[0], "nn.global_max_pool"), .keep_axes = keep_axes});
  });
}

namespace {
// PyTorch's adaptive bins along one axis: bin i covers [floor(i L / O), ceil((i + 1) L / O)).
Tensor adaptive_axis(const Tensor& x, int axis, int64_t out, bool is_max) {
  const int64_t len = x.shape()[axis];
  auto reduce = [&](const Tensor& t) {
    return is_max ? reduce_max(t, {.axes = axis, .keep_axes = true}) : mean(t, {.axes = axis, .keep_axes = true});
  };
  if (len % out == 0) {  // equal bins: one reshape and a reduction
    std::vector<int64_t> dims = x.shape().to_vector();
    dims[axis] = out;
    dims.insert(dims.begin() + axis + 1, len / out);
    Tensor r = reshape(x, Shape(dims));
    return is_max ? reduce_max(r, {.axes = axis + 1}) : mean(r, {.axes = axis + 1});
  }
  std::vector<Tensor> bins;
  for (int64_t i = 0; i < out; ++i) {
    const int64_t start = i * len / out, stop = ((i + 1) * len + out - 1) / out;
    bins.push_back(reduce(slice_along_axis(x, axis, start, stop - start)));
  }
  return nx::concatenate(bins, axis);
}

Layer adaptive(const char* op, std::vector<int64_t> out, bool is_max, Where where) {
  check_window(out, op, where);
  return layer(
      std::string(op).substr(3),
      [=](Scope&, const std::vector<Tensor>& xs) {
        Tensor x = xs[0];
        if (x.rank() != static_cast<int>(out.size()) + 2)
          throw ShapeError(op, "an output size of " + std::to_string(out.size()) + " axes expects (N, C, " +
                                   std::to_string(out.size()) + " spatial axes), given " + x.shape().str());
        for (size_t i = 0; i < out.size(); ++i) {
          if (x.shape()[2 + i] < 1) throw ShapeError(op, "empty spatial axis in " + x.shape().str());
          x = adaptive_axis(x, static_cast<int>(2 + i), out[i], is_max);
        }
        return x;
      },
      1, "output_size=" + ints_str(out));
}
}  // namespace

Layer adaptive_avg_pool(std::vector<int64_t> output_size, Where where) {
  return adaptive("nn.adaptive_avg_pool", std::move(output_size), false, where);
}
Layer adaptive_max_pool(std::vector<int64_t> output_size, Where where) {
  return adaptive("nn.adaptive_max_pool", std::move(output_size), true, where);
}

}  // namespace nx::nn
