// Recurrent layers: LSTM and GRU. The input projections of all steps are one matmul; the
// steps run in one loop node (nx::fori_loop) that keeps every step's state, and the
// gradient (nx::custom_grad) is back-propagation through time in one backward loop.
#include "nx/nn/recurrent.hpp"

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "nn/describe.hpp"
#include "nx/composites.hpp"
#include "nx/control.hpp"
#include "nx/grad.hpp"
#include "nx/ops.hpp"

namespace nx::nn {

namespace {

// The sequence's sizes after checking it is (N, T, F) with at least one step.
struct SequenceDims {
  int64_t n, t, f;
};
SequenceDims sequence_dims(const Tensor& x, const char* op) {
  if (x.rank() != 3) throw ShapeError(op, "expects a batch-first sequence (N, T, F), given " + x.shape().str());
  if (x.shape()[1] < 1) throw ShapeError(op, "needs at least one time step, given " + x.shape().str());
  return {x.shape()[0], x.shape()[1], x.shape()[2]};
}

Initializer or_default(const Initializer& init, int64_t hidden) {
  if (init) return init;
  const double k = 1.0 / std::sqrt(double(hidden));
  return initializers::uniform(-k, k);
}

// Gate `i` of width h from stacked gates (N, gates * h).
Tensor gate(const Tensor& g, int64_t i, int64_t h) { return slice_along_axis(g, 1, i * h, h); }

// Step `i` (a scalar tensor) of a buffer (T, N, W), as (N, W); and the buffer with it replaced.
Tensor at_step(const Tensor& buf, const Tensor& i) {
  const Tensor zero = scalar(0, DType::i64);
  const int64_t n = buf.shape()[1], w = buf.shape()[2];
  return reshape(dynamic_slice(buf, {i, zero, zero}, {1, n, w}), Shape{n, w});
}
Tensor put_step(const Tensor& buf, const Tensor& value, const Tensor& i) {
  const Tensor zero = scalar(0, DType::i64);
  return dynamic_update_slice(buf, new_axis(value, 0), {i, zero, zero});
}

// The layer's output from the hidden states hs (T + 1, N, H), hs[0] the initial zeros, in
// step order: every step's (T, N, H) or the last one's (N, H).
Tensor outputs_of(const Tensor& hs, bool sequences) {
  const int64_t t = hs.shape()[0] - 1;
  return sequences ? slice_along_axis(hs, 0, 1, t) : squeeze(slice_along_axis(hs, 0, t, 1), Axes{0});
}

// The steps of a backward pass run k = T-1, ..., 0: fori_loop over j with k = T-1-j.
Tensor step_back(const Tensor& j, int64_t t) { return scalar(t - 1, DType::i64) - j; }

// One LSTM step from the stacked input projection xt (N, 4H): gate activations i, f, g, o.
struct LstmGates {
  Tensor i, f, g, o;
};
LstmGates lstm_gates(const Tensor& xt, const Tensor& h, const Tensor& w_hh, int64_t hidden) {
  Tensor a = xt + dot(h, {1}, w_hh, {1});
  return {sigmoid(gate(a, 0, hidden)), sigmoid(gate(a, 1, hidden)), nx::tanh(gate(a, 2, hidden)),
          sigmoid(gate(a, 3, hidden))};
}

// The LSTM over steps (T, N, 4H) (input projections with both biases, in step order):
// hidden states in step order, (T, N, H) or the last (N, H). The loop keeps every step's
// h and c, and the gradient is back-propagation through time in one backward loop (the
// generic gradient of a loop would rerun the steps from the start for each step).
Tensor lstm_loop(const Tensor& steps, const Tensor& w_hh, int64_t hidden, bool sequences) {
  const int64_t t = steps.shape()[0], n = steps.shape()[1];
  const Tensor empty = zeros({t + 1, n, hidden}, steps.dtype());
  const auto states = nx::fori_loop(0, t, std::pair{empty, empty}, [&](const Tensor& i, const auto& s) {
    const Tensor& h = s.first;
    const Tensor& c = s.second;
    LstmGates g = lstm_gates(at_step(steps, i), at_step(h, i), w_hh, hidden);
    Tensor c_next = g.f * at_step(c, i) + g.i * g.g;
    return std::pair{put_step(h, g.o * nx::tanh(c_next), i + 1), put_step(c, c_next, i + 1)};
  });
  const Tensor hs = states.first, cs = states.second;
  auto backward = [=](const Tensor& gy) {
    // State: d h_k and d c_k from later steps, d W_hh so far, d steps.
    auto out = nx::fori_loop(
        0, t, std::tuple{sequences ? zeros({n, hidden}, gy.dtype()) : gy, zeros({n, hidden}, gy.dtype()), zeros_like(w_hh),
                         zeros_like(steps)},
        [&](const Tensor& j, const auto& s) {
          const auto& [dh_later, dc_later, dw, dsteps] = s;
          const Tensor k = step_back(j, t);
          const Tensor h_prev = at_step(hs, k), c_prev = at_step(cs, k);
          LstmGates g = lstm_gates(at_step(steps, k), h_prev, w_hh, hidden);
          const Tensor tc = nx::tanh(at_step(cs, k + 1));
          const Tensor dh = sequences ? dh_later + at_step(gy, k) : dh_later;  // plus the output's part
          const Tensor dc = dc_later + dh * g.o * (1.0 - tc * tc);
          // d loss / d pre-activations of i, f, g, o.
          Tensor da = concatenate({dc * g.g * g.i * (1.0 - g.i), dc * c_prev * g.f * (1.0 - g.f), dc * g.i * (1.0 - g.g * g.g),
                                   dh * tc * g.o * (1.0 - g.o)},
                                  1);
          return std::tuple{dot(da, {1}, w_hh, {0}), dc * g.f, dw + dot(da, {0}, h_prev, {0}), put_step(dsteps, da, k)};
        });
    return std::vector<Tensor>{std::get<3>(out), std::get<2>(out)};
  };
  return custom_grad(outputs_of(hs, sequences), {steps, w_hh}, backward);
}

// The GRU over steps (T, N, 3H) (input projections with bias_ih, in step order), as
// lstm_loop. b_hh may be undefined (no bias).
Tensor gru_loop(const Tensor& steps, const Tensor& w_hh, const Tensor& b_hh, int64_t hidden, bool sequences) {
  const int64_t t = steps.shape()[0], n = steps.shape()[1];
  // The recurrent projection (N, 3H) of h, and the gates r, z, n of one step.
  auto recurrent = [w_hh, b_hh](const Tensor& h) {
    Tensor r = dot(h, {1}, w_hh, {1});
    return b_hh.defined() ? r + b_hh : r;
  };
  struct Gates {
    Tensor r, z, n;
  };
  auto gates = [hidden](const Tensor& xt, const Tensor& rp) {
    Tensor r = sigmoid(gate(xt, 0, hidden) + gate(rp, 0, hidden));
    return Gates{r, sigmoid(gate(xt, 1, hidden) + gate(rp, 1, hidden)),
                 nx::tanh(gate(xt, 2, hidden) + r * gate(rp, 2, hidden))};
  };
  const Tensor hs = nx::fori_loop(0, t, zeros({t + 1, n, hidden}, steps.dtype()), [&](const Tensor& i, const Tensor& h) {
    const Tensor h_prev = at_step(h, i);
    Gates g = gates(at_step(steps, i), recurrent(h_prev));
    return put_step(h, g.n + g.z * (h_prev - g.n), i + 1);  // (1 - z) * n + z * h
  });
  auto backward = [=](const Tensor& gy) {
    const Tensor db0 = b_hh.defined() ? zeros_like(b_hh) : zeros({3 * hidden}, steps.dtype());
    auto out = nx::fori_loop(
        0, t, std::tuple{sequences ? zeros({n, hidden}, gy.dtype()) : gy, zeros_like(w_hh), db0, zeros_like(steps)},
        [&](const Tensor& j, const auto& s) {
          const auto& [dh_later, dw, db, dsteps] = s;
          const Tensor k = step_back(j, t);
          const Tensor h_prev = at_step(hs, k);
          const Tensor rp = recurrent(h_prev);
          Gates g = gates(at_step(steps, k), rp);
          const Tensor dh = sequences ? dh_later + at_step(gy, k) : dh_later;  // plus the output's part
          const Tensor dan = dh * (1.0 - g.z) * (1.0 - g.n * g.n);  // d loss / d pre-activation of n
          const Tensor daz = dh * (h_prev - g.n) * g.z * (1.0 - g.z);
          const Tensor dar = dan * gate(rp, 2, hidden) * g.r * (1.0 - g.r);
          Tensor drp = concatenate({dar, daz, dan * g.r}, 1);  // d loss / d recurrent projection
          return std::tuple{dh * g.z + dot(drp, {1}, w_hh, {0}), dw + dot(drp, {0}, h_prev, {0}), db + sum(drp, {.axes = {0}}),
                            put_step(dsteps, concatenate({dar, daz, dan}, 1), k)};
        });
    std::vector<Tensor> grads{std::get<3>(out), std::get<1>(out)};
    if (b_hh.defined()) grads.push_back(std::get<2>(out));
    return grads;
  };
  std::vector<Tensor> inputs{steps, w_hh};
  if (b_hh.defined()) inputs.push_back(b_hh);
  return custom_grad(outputs_of(hs, sequences), inputs, backward);
}

// The layer's output from the loop's, in step order: aligned with the input steps
// (reversed back when `reverse`) and batch first.
Tensor batch_first(const Tensor& y, bool sequences, bool reverse) {
  if (!sequences) return y;
  return transpose(reverse ? nx::reverse(y, Axes{0}) : y, {1, 0, 2});
}

// The input projections (N, T, G) as the loop's steps (T, N, G), in the order they run.
Tensor as_steps(const Tensor& xp, bool reverse) {
  Tensor s = transpose(xp, {1, 0, 2});
  return reverse ? nx::reverse(s, Axes{0}) : s;
}

std::string recurrent_options(int64_t hidden, bool sequences, bool reverse, bool bias) {
  return detail::options_str({{"hidden", std::to_string(hidden)},
                              {"return_sequences", sequences ? "" : "false"},
                              {"reverse", reverse ? "true" : ""},
                              {"bias", bias ? "" : "false"}});
}

}  // namespace

Layer lstm(int64_t hidden, LstmOpts opts, Where where) {
  const char* op = "nn.lstm";
  if (hidden < 1) throw ValueError(op, "hidden must be positive, given " + std::to_string(hidden), where);
  const Initializer kernel = or_default(opts.kernel_initializer, hidden);
  const Initializer recurrent = or_default(opts.recurrent_initializer, hidden);
  const Initializer bias = or_default(opts.bias_initializer, hidden);
  const int64_t h = hidden;
  return layer(
      "lstm",
      [=](Scope& s, const std::vector<Tensor>& xs) {
        const Tensor& x = xs[0];
        const SequenceDims d = sequence_dims(x, op);
        Tensor w_ih = s.param("weight_ih", {4 * h, d.f}, kernel);
        Tensor w_hh = s.param("weight_hh", {4 * h, h}, recurrent);
        Tensor xp = dot(x, {2}, w_ih, {1});  // (N, T, 4H): every step's input projection
        if (opts.use_bias) xp = xp + (s.param("bias_ih", {4 * h}, bias) + s.param("bias_hh", {4 * h}, bias));
        Tensor y = lstm_loop(as_steps(xp, opts.reverse), w_hh, h, opts.return_sequences);
        return batch_first(y, opts.return_sequences, opts.reverse);
      },
      1, recurrent_options(hidden, opts.return_sequences, opts.reverse, opts.use_bias));
}

Layer gru(int64_t hidden, GruOpts opts, Where where) {
  const char* op = "nn.gru";
  if (hidden < 1) throw ValueError(op, "hidden must be positive, given " + std::to_string(hidden), where);
  const Initializer kernel = or_default(opts.kernel_initializer, hidden);
  const Initializer recurrent = or_default(opts.recurrent_initializer, hidden);
  const Initializer bias = or_default(opts.bias_initializer, hidden);
  const int64_t h = hidden;
  return layer(
      "gru",
      [=](Scope& s, const std::vector<Tensor>& xs) {
        const Tensor& x = xs[0];
        const SequenceDims d = sequence_dims(x, op);
        Tensor w_ih = s.param("weight_ih", {3 * h, d.f}, kernel);
        Tensor w_hh = s.param("weight_hh", {3 * h, h}, recurrent);
        Tensor xp = dot(x, {2}, w_ih, {1});  // (N, T, 3H)
        Tensor b_hh;
        if (opts.use_bias) {
          xp = xp + s.param("bias_ih", {3 * h}, bias);
          b_hh = s.param("bias_hh", {3 * h}, bias);
        }
        Tensor y = gru_loop(as_steps(xp, opts.reverse), w_hh, b_hh, h, opts.return_sequences);
        return batch_first(y, opts.return_sequences, opts.reverse);
      },
      1, recurrent_options(hidden, opts.return_sequences, opts.reverse, opts.use_bias));
}

}  // namespace nx::nn
