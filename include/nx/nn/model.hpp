// nx::nn models: a graph of layers (Axon's model, Keras's functional API), built by
// applying layers to nodes, then initialised, applied and predicted.
//
//   namespace nn = nx::nn;
//   nn::Node x = nn::input("image", {-1, 1, 28, 28});           // -1: any size (the batch)
//   nn::Node y = x | nn::conv(32, {3, 3}) | nn::relu() | nn::max_pool({2, 2})
//                  | nn::flatten() | nn::dense(10);
//   nn::Model model(y);
//   std::cout << model;                                          // the layer table
//   nn::Variables vars = nn::init(model, nx::random::key(0), images);
//   nx::Tensor logits = nn::predict(model, vars, images);        // a jit-compiled forward
//
// A Layer is one set of parameters: applying one Layer object to two nodes shares them.
// `x | nn::dense(10)` makes a fresh layer; `nn::dense(x, 10)` is the same in call form.
// Parameters and state use PyTorch's layouts and names (a dense weight is (out, in), a
// conv weight (out, in / groups, spatial...), "weight", "bias", "running_mean"), so a
// PyTorch state dict maps onto Variables one to one (nx::io::to_state_dict / from_state_dict).
//
// Custom layers are any traced C++ function: nn::layer("scale", [](nn::Scope& s, const
// std::vector<nx::Tensor>& xs) { return xs[0] * s.param("gain", {1}, nn::initializers::ones()); }).
#pragma once
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <iosfwd>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nx/axes.hpp"
#include "nx/error.hpp"
#include "nx/tensor.hpp"
#include "nx/tree.hpp"

namespace nx::nn {

// Layer name -> parameter (or state) name -> tensor.
using ParamTree = std::map<std::string, std::map<std::string, Tensor>>;

// A model's values: its trained parameters, its state (running statistics of batch norm,
// read in inference and updated in training), and the names of frozen layers or
// parameters ("conv_0" or "conv_0.weight"), which training leaves unchanged.
struct Variables {
  ParamTree params;
  ParamTree state;
  std::vector<std::string> frozen;
  int64_t parameter_count() const;
  int64_t parameter_bytes() const;
};
NX_TREE(Variables, params, state, frozen)

// Marks layers or single parameters ("dense_1.bias") as frozen / trainable again.
Variables freeze(Variables vars, const std::vector<std::string>& names, Where where = Where::current());
Variables unfreeze(Variables vars, const std::vector<std::string>& names = {});
bool is_frozen(const Variables& vars, const std::string& layer, const std::string& param);

// Variables in a safetensors file: tensors "params.<layer>.<name>" and "state.<layer>.<name>",
// frozen names in the metadata. Saved atomically; loading maps the file (no copy).
void save_variables(const std::string& path, const Variables& vars, Where where = Where::current());
Variables load_variables(const std::string& path, Where where = Where::current());

// Makes a parameter or state tensor: (key, shape, dtype) -> tensor. See nx/nn/initializers.hpp.
using Initializer = std::function<Tensor(const Tensor& key, const Shape& shape, DType dtype)>;

namespace detail {
struct ScopeImpl;
struct ModelImpl;
struct NodeImpl;
}  // namespace detail

// What a layer's forward function is given: its parameters and state by name, the mode,
// and random keys. Parameters are created on first use in nn::init and looked up (and
// their shapes checked) afterwards.
class Scope {
 public:
  explicit Scope(detail::ScopeImpl& impl) : impl_(&impl) {}
  // The parameter `name` of this layer, in the policy's compute dtype.
  Tensor param(const std::string& name, const Shape& shape, const Initializer& init);
  // A non-trained state tensor (f32 unless given), and its new value after this step
  // (kept only in training mode).
  Tensor state(const std::string& name, const Shape& shape, const Initializer& init, DType dtype = f32);
  void set_state(const std::string& name, const Tensor& value);
  bool training() const;
  // A random key for this application of the layer (dropout); ValueError in training
  // mode without ApplyOpts::key.
  Tensor key() const;
  DType compute_dtype() const;
  const std::string& layer_name() const;

 private:
  detail::ScopeImpl* impl_;
};

using LayerFn = std::function<Tensor(Scope&, const std::vector<Tensor>&)>;

// What a layer is, shared by every application of one Layer.
struct LayerSpec {
  std::string op;        // "dense", "conv", ...
  std::string name;      // the user's name, or empty: "<op>_<n>" in the model
  std::string options;   // shown in the model table: "units=10, activation=relu"
  LayerFn forward;
  int arity = 1;         // inputs it takes; -1: one or more
  // Input nodes only: the model input's name, dims (-1: any size) and dtype.
  std::string input_name;
  std::vector<int64_t> input_dims;
  DType input_dtype = f32;
};

class Node;

// A configured layer, to apply to nodes: layer(x), layer({a, b}), or x | layer.
class Layer {
 public:
  explicit Layer(LayerSpec spec);
  Node operator()(const Node& x, Where where = Where::current()) const;
  Node operator()(const std::vector<Node>& xs, Where where = Where::current()) const;
  // This layer under a name (a new layer: its parameters are its own).
  Layer named(std::string name) const;
  const LayerSpec& spec() const { return *spec_; }

 private:
  std::shared_ptr<const LayerSpec> spec_;
};

// One layer application's output in the model graph.
class Node {
 public:
  Node() = default;
  const LayerSpec& layer() const;
  const std::vector<Node>& inputs() const;
  bool defined() const { return impl_ != nullptr; }
  const detail::NodeImpl* id() const { return impl_.get(); }

 private:
  friend class Layer;
  std::shared_ptr<const detail::NodeImpl> impl_;
};

inline Node operator|(const Node& x, const Layer& layer) { return layer(x); }
inline Node operator|(const std::vector<Node>& xs, const Layer& layer) { return layer(xs); }

// A model input: its name, dims (-1 for any size, usually the batch) and dtype.
Node input(const std::string& name, std::vector<int64_t> dims, DType dtype = f32, Where where = Where::current());

// A custom layer from a traced function of its inputs.
Layer layer(const std::string& op, LayerFn forward, int arity = 1, std::string options = "");
// A parameter-free layer from a function of one tensor.
Layer fn(const std::string& op, std::function<Tensor(const Tensor&)> f);

// Mixed precision (Axon.MixedPrecision): parameters are kept in `params`, layers compute in
// `compute`, outputs are given in `output`.
struct Policy {
  ::nx::detail::NamedFieldsOnly named_fields_only;
  DType params = f32;
  DType compute = f32;
  DType output = f32;
};
struct ModelOpts {
  ::nx::detail::NamedFieldsOnly named_fields_only;
  Policy policy;
};

// Where a model's inputs come from in a call: one tensor, tensors in the order of the
// model's inputs, or tensors by input name.
class Inputs {
 public:
  Inputs(const Tensor& x) : positional_{x} {}  // NOLINT(google-explicit-constructor)
  Inputs(std::vector<Tensor> xs) : positional_(std::move(xs)) {}  // NOLINT
  Inputs(std::initializer_list<Tensor> xs) : positional_(xs) {}  // NOLINT
  Inputs(std::map<std::string, Tensor> named) : named_(std::move(named)), by_name_(true) {}  // NOLINT
  Inputs(std::initializer_list<std::pair<const std::string, Tensor>> named) : named_(named), by_name_(true) {}  // NOLINT
  // The tensors in the order of `model`'s inputs; ValueError on a count or name mismatch.
  std::vector<Tensor> ordered(const class Model& model, Where where) const;

 private:
  std::vector<Tensor> positional_;
  std::map<std::string, Tensor> named_;
  bool by_name_ = false;
};

struct InputInfo {
  std::string name;
  std::vector<int64_t> dims;
  DType dtype;
};

// A model: its output nodes and everything they depend on, in order, each layer named.
class Model {
 public:
  Model(const Node& output, ModelOpts opts = {}, Where where = Where::current());
  Model(std::vector<Node> outputs, ModelOpts opts = {}, Where where = Where::current());
  const std::vector<InputInfo>& inputs() const;
  size_t num_outputs() const;
  const Policy& policy() const;
  // The names of the layers, in order of first application.
  std::vector<std::string> layer_names() const;
  const detail::ModelImpl& impl() const { return *impl_; }

 private:
  std::shared_ptr<detail::ModelImpl> impl_;
};

struct ApplyOpts {
  ::nx::detail::NamedFieldsOnly named_fields_only;
  bool training = false;
  Tensor key;  // for dropout and other random layers in training
};
struct Forward {
  std::vector<Tensor> outputs;
  ParamTree state;  // the state after this call (changed only in training)
};

// The parameters and state of `model` for inputs like `example` (only their shapes and
// dtypes are used), initialised from `key` reproducibly.
Variables init(const Model& model, const Tensor& key, const Inputs& example, Where where = Where::current());
// The forward pass, traceable (nx::jit, nx::grad): what a training step calls.
Forward apply(const Model& model, const Variables& vars, const Inputs& inputs, ApplyOpts opts = {},
              Where where = Where::current());
// The inference forward pass, compiled once per input signature. predict() needs a
// single-output model; predict_all() gives every output.
Tensor predict(const Model& model, const Variables& vars, const Inputs& inputs, Where where = Where::current());
std::vector<Tensor> predict_all(const Model& model, const Variables& vars, const Inputs& inputs,
                                Where where = Where::current());

// The model table (like Axon.Display): each layer application with its input and output
// shapes, options and parameters, and totals. operator<< traces the declared input shapes
// (a -1 dim shown as ?); summary() uses the given inputs.
std::ostream& operator<<(std::ostream& os, const Model& model);
std::string summary(const Model& model, const Inputs& example, Where where = Where::current());

}  // namespace nx::nn
