// Activation functions, as tensor functions and as layers.
#include "nx/nn/activations.hpp"

#include <cmath>
#include <map>

#include "nn/describe.hpp"
#include "nx/composites.hpp"
#include "nx/ops.hpp"

namespace nx::nn {
namespace activations {

Tensor relu(const Tensor& x) { return max(x, 0.0); }
Tensor relu6(const Tensor& x) { return min(max(x, 0.0), 6.0); }
Tensor leaky_relu(const Tensor& x, double alpha) { return select(x > 0.0, x, x * alpha); }
Tensor elu(const Tensor& x, double alpha) { return select(x > 0.0, x, expm1(min(x, 0.0)) * alpha); }
Tensor selu(const Tensor& x) {
  constexpr double alpha = 1.6732632423543772848170429916717;
  constexpr double scale = 1.0507009873554804934193349852946;
  return elu(x, alpha) * scale;
}
Tensor gelu(const Tensor& x, bool approximate) {
  if (approximate) {
    const double c = std::sqrt(2.0 / M_PI);
    return x * 0.5 * (nx::tanh((x + x * x * x * 0.044715) * c) + 1.0);
  }
  return x * 0.5 * (erf(x * M_SQRT1_2) + 1.0);
}
Tensor silu(const Tensor& x) { return x * nx::sigmoid(x); }
Tensor softplus(const Tensor& x) { return max(x, 0.0) + log1p(exp(-abs(x))); }  // no overflow
Tensor mish(const Tensor& x) { return x * nx::tanh(softplus(x)); }
Tensor sigmoid(const Tensor& x) { return nx::sigmoid(x); }
Tensor hard_sigmoid(const Tensor& x) { return relu6(x + 3.0) / 6.0; }
Tensor tanh(const Tensor& x) { return nx::tanh(x); }
Tensor softmax(const Tensor& x, int axis) { return nx::softmax(x, {.axis = axis}); }
Tensor log_softmax(const Tensor& x, int axis) { return nx::log_softmax(x, {.axis = axis}); }
Tensor linear(const Tensor& x) { return x; }

namespace {
using Fn = std::function<Tensor(const Tensor&)>;
const std::map<std::string, Fn>& table() {
  static const std::map<std::string, Fn> t = {
      {"", Fn(&activations::linear)},
      {"linear", Fn(&activations::linear)},
      {"relu", Fn(&activations::relu)},
      {"relu6", Fn(&activations::relu6)},
      {"leaky_relu", [](const Tensor& x) { return activations::leaky_relu(x, 0.01); }},
      {"elu", [](const Tensor& x) { return activations::elu(x, 1.0); }},
      {"selu", Fn(&activations::selu)},
      {"gelu", [](const Tensor& x) { return activations::gelu(x, false); }},
      {"gelu_tanh", [](const Tensor& x) { return activations::gelu(x, true); }},
      {"silu", Fn(&activations::silu)},
      {"swish", Fn(&activations::silu)},
      {"mish", Fn(&activations::mish)},
      {"softplus", Fn(&activations::softplus)},
      {"sigmoid", Fn(&activations::sigmoid)},
      {"hard_sigmoid", Fn(&activations::hard_sigmoid)},
      {"tanh", Fn(&activations::tanh)},
      {"softmax", [](const Tensor& x) { return activations::softmax(x, -1); }},
      {"log_softmax", [](const Tensor& x) { return activations::log_softmax(x, -1); }},
  };
  return t;
}
}  // namespace

std::function<Tensor(const Tensor&)> named(const std::string& name, Where where) {
  auto it = table().find(name);
  if (it != table().end()) return it->second;
  std::string known;
  for (const auto& [k, v] : table())
    if (!k.empty()) known += (known.empty() ? "" : ", ") + k;
  throw ValueError("nn.activation", "unknown activation '" + name + "' (known: " + known + ")", where);
}

}  // namespace activations

namespace {
using detail::number_str;
Layer unary(const std::string& op, std::function<Tensor(const Tensor&)> f, std::string options = "") {
  return layer(op, [f = std::move(f)](Scope&, const std::vector<Tensor>& xs) { return f(xs[0]); }, 1,
               std::move(options));
}
}  // namespace

Layer relu() { return unary("relu", activations::relu); }
Layer relu6() { return unary("relu6", activations::relu6); }
Layer leaky_relu(double alpha) {
  return unary("leaky_relu", [alpha](const Tensor& x) { return activations::leaky_relu(x, alpha); }, "alpha=" + number_str(alpha));
}
Layer elu(double alpha) {
  return unary("elu", [alpha](const Tensor& x) { return activations::elu(x, alpha); }, "alpha=" + number_str(alpha));
}
Layer selu() { return unary("selu", activations::selu); }
Layer gelu(bool approximate) {
  return unary("gelu", [approximate](const Tensor& x) { return activations::gelu(x, approximate); },
               approximate ? "approximate=tanh" : "");
}
Layer silu() { return unary("silu", activations::silu); }
Layer mish() { return unary("mish", activations::mish); }
Layer softplus() { return unary("softplus", activations::softplus); }
Layer sigmoid() { return unary("sigmoid", activations::sigmoid); }
Layer hard_sigmoid() { return unary("hard_sigmoid", activations::hard_sigmoid); }
Layer tanh() { return unary("tanh", activations::tanh); }
Layer softmax(int axis) {
  return unary("softmax", [axis](const Tensor& x) { return activations::softmax(x, axis); }, "axis=" + std::to_string(axis));
}
Layer log_softmax(int axis) {
  return unary("log_softmax", [axis](const Tensor& x) { return activations::log_softmax(x, axis); },
               "axis=" + std::to_string(axis));
}
Layer activation(const std::string& name, Where where) { return unary(name.empty() ? "linear" : name, activations::named(name, where)); }

}  // namespace nx::nn
