// Recurrent layers: LSTM and GRU over batch-first sequences (N, T, F), with PyTorch's
// parameter names, layouts and gate orders, so a torch.nn.LSTM / GRU (one layer, one
// direction, batch_first=True) state dict maps onto their Variables one to one:
//
//   nn::Node x = nn::input("tokens", {-1, -1, 16});                 // (N, T, F)
//   nn::Node h = x | nn::lstm(32) | nn::lstm(32, {.return_sequences = false});  // (N, 32)
//
// The time loop is one loop node in the graph (nx::fori_loop), never unrolled:
// the input projections of every step are computed by one matmul before it, and each step
// adds the recurrent projection of the previous hidden state. The initial state is zeros.
// The loop keeps every step's state, and the gradient is back-propagation through time in
// one backward loop over them (nx::custom_grad), so training costs O(T) steps, not the
// O(T^2) of differentiating a loop generically.
#pragma once
#include <cstdint>

#include "nx/nn/initializers.hpp"
#include "nx/nn/model.hpp"

namespace nx::nn {

struct LstmOpts {
  ::nx::detail::NamedFieldsOnly named_fields_only;
  // true: every step's hidden state (N, T, H); false: the last one (N, H).
  bool return_sequences = true;
  // Run from the last step to the first (the backward half of a bidirectional LSTM):
  // outputs stay aligned with the input steps, and the "last" state is the one after x[:, 0].
  bool reverse = false;
  bool use_bias = true;
  // Empty (the default): PyTorch's uniform(-1/sqrt(H), 1/sqrt(H)).
  Initializer kernel_initializer;     // weight_ih
  Initializer recurrent_initializer;  // weight_hh
  Initializer bias_initializer;       // bias_ih and bias_hh
};
// Parameters weight_ih (4H, F), weight_hh (4H, H), bias_ih (4H), bias_hh (4H); the gates
// are stacked in the order i, f, g, o:
//   i, f, o = sigmoid(W_i* x + b_i* + W_h* h + b_h*),  g = tanh(W_ig x + b_ig + W_hg h + b_hg)
//   c' = f * c + i * g,  h' = o * tanh(c')
Layer lstm(int64_t hidden, LstmOpts opts = {}, Where where = Where::current());

struct GruOpts {
  ::nx::detail::NamedFieldsOnly named_fields_only;
  bool return_sequences = true;
  bool reverse = false;
  bool use_bias = true;
  Initializer kernel_initializer;
  Initializer recurrent_initializer;
  Initializer bias_initializer;
};
// Parameters weight_ih (3H, F), weight_hh (3H, H), bias_ih (3H), bias_hh (3H); the gates
// are stacked in the order r, z, n:
//   r, z = sigmoid(W_i* x + b_i* + W_h* h + b_h*),  n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
//   h' = (1 - z) * n + z * h
Layer gru(int64_t hidden, GruOpts opts = {}, Where where = Where::current());

}  // namespace nx::nn
