// Activation functions: on tensors (nx::nn::activations::relu(x)), as layers
// (x | nn::relu()), and by name for a layer's `.activation = "relu"`.
#pragma once
#include <string>

#include "nx/nn/model.hpp"

namespace nx::nn {
namespace activations {

Tensor relu(const Tensor& x);
Tensor relu6(const Tensor& x);
Tensor leaky_relu(const Tensor& x, double alpha = 0.01);
Tensor elu(const Tensor& x, double alpha = 1.0);
Tensor selu(const Tensor& x);
Tensor gelu(const Tensor& x, bool approximate = false);  // exact: x * Phi(x); approximate: the tanh form
Tensor silu(const Tensor& x);
Tensor mish(const Tensor& x);
Tensor softplus(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor hard_sigmoid(const Tensor& x);  // relu6(x + 3) / 6, as PyTorch
Tensor tanh(const Tensor& x);
Tensor softmax(const Tensor& x, int axis = -1);
Tensor log_softmax(const Tensor& x, int axis = -1);
Tensor linear(const Tensor& x);

// The function named `name` ("relu", "gelu_tanh", ..., "" and "linear" for none);
// ValueError listing the names otherwise.
std::function<Tensor(const Tensor&)> named(const std::string& name, Where where = Where::current());

}  // namespace activations

Layer relu();
Layer relu6();
Layer leaky_relu(double alpha = 0.01);
Layer elu(double alpha = 1.0);
Layer selu();
Layer gelu(bool approximate = false);
Layer silu();
Layer mish();
Layer softplus();
Layer sigmoid();
Layer hard_sigmoid();
Layer tanh();
Layer softmax(int axis = -1);
Layer log_softmax(int axis = -1);
// The activation layer named `name`, as activations::named.
Layer activation(const std::string& name, Where where = Where::current());

}  // namespace nx::nn
