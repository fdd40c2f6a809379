// The benchmarks' MLP: loss of a 784-512-512-10 ReLU network on a batch of 128
// (TARGETS.md's MLP row), and its inputs. benchmarks/peers_llvm.py builds the same in JAX.
#pragma once
#include <cmath>
#include <map>
#include <string>

#include <nx/nx.hpp>

namespace bench {

using Params = std::map<std::string, nx::Tensor>;

inline nx::Tensor mlp_loss(const Params& p, const nx::Tensor& x, const nx::Tensor& onehot) {
  nx::Tensor h = nx::max(nx::dot(x, p.at("w1")) + p.at("b1"), 0.0);
  h = nx::max(nx::dot(h, p.at("w2")) + p.at("b2"), 0.0);
  nx::Tensor logits = nx::dot(h, p.at("w3")) + p.at("b3");
  return -nx::mean(nx::sum(onehot * nx::log_softmax(logits), {.axes = {1}}));
}

struct MlpInputs {
  Params p;
  nx::Tensor x, onehot;
};

inline const MlpInputs& mlp_inputs() {
  static const MlpInputs in = [] {
    auto k = [](int i) { return nx::random::key(i); };
    auto w = [&](int i, int64_t a, int64_t b) -> nx::Tensor { return nx::random::normal(k(i), {a, b}) * (1.0 / std::sqrt(double(a))); };
    MlpInputs r;
    r.p = {{"w1", w(1, 784, 512)}, {"b1", nx::zeros({512})}, {"w2", w(2, 512, 512)},
           {"b2", nx::zeros({512})},  {"w3", w(3, 512, 10)},  {"b3", nx::zeros({10})}};
    r.x = nx::random::uniform(k(4), {128, 784});
    r.onehot = nx::one_hot(nx::random::randint(k(5), {128}, 0, 10), 10);
    return r;
  }();
  return in;
}

}  // namespace bench
