// The training benchmarks' models and data (TARGETS.md's MLP and CNN rows), built with
// nx::nn; benchmarks/peers_train.py builds the same in PyTorch and JAX.
#pragma once
#include <nx/nn.hpp>
#include <nx/nx.hpp>
#include <nx/optim.hpp>
#include <nx/train.hpp>

namespace bench {

namespace nn = nx::nn;

inline nn::Model mlp_model() {
  return nn::Model(nn::input("x", {-1, 784}) | nn::dense(512, {.activation = "relu"}) |
                   nn::dense(512, {.activation = "relu"}) | nn::dense(10));
}

inline nn::Model cnn_model() {
  nn::Node x = nn::input("image", {-1, 1, 28, 28});
  return nn::Model(x | nn::conv(32, {3, 3}, {.padding = nn::same, .activation = "relu"}) | nn::max_pool({2, 2}) |
                   nn::conv(64, {3, 3}, {.padding = nn::same, .activation = "relu"}) | nn::max_pool({2, 2}) |
                   nn::flatten() | nn::dense(128, {.activation = "relu"}) | nn::dense(10));
}

inline nx::Tensor sparse_ce(const nx::Tensor& y, const nx::Tensor& logits) {
  return nx::losses::categorical_cross_entropy(y, logits, {.from_logits = true, .sparse = true});
}

// `batches` fixed batches of 128 (no shuffling: the step alone is measured).
inline nx::train::DataSource fixed_batches(const nx::Shape& example, int64_t batches) {
  nx::Shape all = example;
  all[0] = 128 * batches;
  nx::Tensor x = nx::random::uniform(nx::random::key(1), all);
  nx::Tensor y = nx::random::randint(nx::random::key(2), {all[0]}, 0, 10);
  return nx::train::DataSource::from_tensors({x}, y, {.batch_size = 128, .shuffle = false});
}

}  // namespace bench
