// Multi-head attention over batch-first sequences, with torch.nn.MultiheadAttention's
// parameters (batch_first=True, key and value of the query's size):
//
//   nn::Node x = nn::input("x", {-1, -1, 64});                          // (N, L, E)
//   nn::Node y = x | nn::multi_head_attention(8, {.causal = true});     // self-attention
//   nn::Node z = nn::multi_head_attention(8)({query, memory, memory});  // cross-attention
#pragma once
#include <cstdint>

#include "nx/nn/initializers.hpp"
#include "nx/nn/model.hpp"

namespace nx::nn {

struct AttentionOpts {
  ::nx::detail::NamedFieldsOnly named_fields_only;
  // Query position i attends to key positions j <= i only.
  bool causal = false;
  // The rate at which attention weights are dropped in training (scaling the rest by
  // 1 / (1 - rate)); nothing is dropped in inference.
  double dropout = 0.0;
  bool use_bias = true;  // in_proj_bias and out_proj_bias
  Initializer kernel_initializer = initializers::glorot_uniform();  // in_proj_weight, as PyTorch
  // out_proj_weight; empty (the default): PyTorch's Linear default, uniform(-1/sqrt(E), 1/sqrt(E)).
  Initializer output_initializer;
  Initializer bias_initializer = initializers::zeros();
};
// Applied to one node x (self-attention: query = key = value = x) or to three nodes
// {query (N, L, E), key (N, S, E), value (N, S, E)}; gives (N, L, E). Parameters
// in_proj_weight (3E, E) (the query, key and value projections stacked), in_proj_bias (3E),
// out_proj_weight (E, E), out_proj_bias (E). Each of the num_heads heads (E / num_heads
// features) computes softmax(q k^T / sqrt(E / num_heads)) v; the heads are concatenated
// and projected. E must be a multiple of num_heads.
Layer multi_head_attention(int64_t num_heads, AttentionOpts opts = {}, Where where = Where::current());

}  // namespace nx::nn
