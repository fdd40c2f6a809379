// Building a model graph (nodes, layer names, order) and running it: init, apply, predict.
#include <algorithm>
#include <set>
#include <unordered_map>

#include "nn/model_impl.hpp"
#include "nx/composites.hpp"
#include "nx/grad.hpp"
#include "nx/jit.hpp"
#include "nx/ops.hpp"
#include "nx/random.hpp"

namespace nx::nn {
namespace detail {

std::string dims_str(const std::vector<int64_t>& dims) {
  std::string s = "(";
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i) s += ", ";
    s += dims[i] < 0 ? "?" : std::to_string(dims[i]);
  }
  return s + ")";
}

namespace {

thread_local const Where* g_call_where = nullptr;  // the nn call a jitted run was made from

// Rethrows an op's error from inside a layer with the layer named first, keeping its type.
[[noreturn]] void rethrow_in_layer(const Error& e, const std::string& layer, const std::string& op, Where where) {
  const std::string head = layer + " (" + op + ")";
  if (e.op().rfind(layer + " (", 0) == 0) throw;  // already named (a nested model)
  // A layer's own check ("nn.conv") needs no second name; an op's ("dot") keeps its own.
  const std::string what = e.op().rfind("nn.", 0) == 0 ? e.detail() : "[" + e.op() + "] " + e.detail();
  if (dynamic_cast<const ShapeError*>(&e)) throw ShapeError(head, what, where);
  if (dynamic_cast<const DTypeError*>(&e)) throw DTypeError(head, what, where);
  if (dynamic_cast<const AxisError*>(&e)) throw AxisError(head, what, where);
  if (dynamic_cast<const IndexError*>(&e)) throw IndexError(head, what, where);
  throw ValueError(head, what, where);
}

Tensor checked_input(const ModelImpl& m, size_t input, const Tensor& x, const Policy& policy, Where where) {
  const InputInfo& info = m.inputs[input];
  const std::string op = "nn.input " + info.name;
  bool ok = x.rank() == static_cast<int>(info.dims.size());
  for (int d = 0; ok && d < x.rank(); ++d) ok = info.dims[d] < 0 || info.dims[d] == x.shape()[d];
  if (!ok)
    throw ShapeError(op, "expected shape " + dims_str(info.dims) + ", got " + x.shape().str(), where);
  if (is_float(info.dtype) != is_float(x.dtype()) || (x.dtype() == DType::bool_) != (info.dtype == DType::bool_))
    throw DTypeError(op, "expected " + std::string(name(info.dtype)) + " values, got " + std::string(name(x.dtype())),
                     where);
  if (is_float(x.dtype()) && x.dtype() != policy.compute) return as_type(x, policy.compute, where);
  return x;
}

}  // namespace

std::vector<Tensor> run(const ModelImpl& m, RunContext& ctx, const std::vector<Tensor>& inputs) {
  std::vector<Tensor> values(m.nodes.size());
  for (size_t i = 0; i < m.input_nodes.size(); ++i)
    values[m.input_nodes[i]] = checked_input(m, i, inputs[i], ctx.policy, ctx.where);
  if (ctx.records) ctx.records->assign(m.nodes.size(), NodeRecord{});
  for (size_t i = 0; i < m.nodes.size(); ++i) {
    const NodeImpl& n = *m.nodes[i].id();
    std::vector<Tensor> xs;
    xs.reserve(m.args[i].size());
    for (size_t a : m.args[i]) xs.push_back(values[a]);
    if (n.layer->op != "input") {
      ScopeImpl s{&ctx, &m.layer_of[i], &n, i, &xs};
      Scope scope(s);
      try {
        values[i] = n.layer->forward(scope, xs);
      } catch (const Error& e) {
        rethrow_in_layer(e, m.layer_of[i], n.layer->op, ctx.where);
      }
    }
    if (ctx.records) {
      NodeRecord& r = (*ctx.records)[i];
      for (const Tensor& x : xs) r.input_shapes.push_back(x.shape());
      r.output_shape = values[i].shape();
      r.output_dtype = values[i].dtype();
    }
  }
  std::vector<Tensor> outs;
  for (size_t o : m.outputs) {
    Tensor y = values[o];
    if (is_float(y.dtype()) && y.dtype() != ctx.policy.output) y = as_type(y, ctx.policy.output, ctx.where);
    outs.push_back(y);
  }
  return outs;
}

// The jitted forms, one per model: inference, and initialisation (parameters made from the
// key in one compiled graph; the forward only tells their shapes and is dropped).
struct PredictFn {
  const ModelImpl* m;
  std::vector<Tensor> operator()(const Variables& vars, const std::vector<Tensor>& xs) const {
    RunContext ctx;
    ctx.vars = &vars;
    ctx.policy = m->policy;
    ctx.where = *g_call_where;
    return run(*m, ctx, xs);
  }
};
struct InitFn {
  const ModelImpl* m;
  Variables operator()(const Tensor& key, const std::vector<Tensor>& xs) const {
    RunContext ctx;
    ctx.init = true;
    ctx.key = key;
    ctx.policy = m->policy;
    ctx.where = *g_call_where;
    run(*m, ctx, xs);
    return Variables{std::move(ctx.params), std::move(ctx.state), {}};
  }
};
class PredictCache {
 public:
  explicit PredictCache(const ModelImpl* m) : jitted(nx::jit(PredictFn{m})) {}
  Jitted<PredictFn> jitted;
};
class InitCache {
 public:
  explicit InitCache(const ModelImpl* m) : jitted(nx::jit(InitFn{m})) {}
  Jitted<InitFn> jitted;
};

struct CallWhere {
  explicit CallWhere(const Where& w) : saved(g_call_where) { g_call_where = &w; }
  ~CallWhere() { g_call_where = saved; }
  const Where* saved;
};

}  // namespace detail

using detail::ModelImpl;
using detail::NodeImpl;

// ---- Variables ----
int64_t Variables::parameter_count() const {
  int64_t n = 0;
  for (const auto& [layer, ps] : params)
    for (const auto& [name, t] : ps) n += t.size();
  return n;
}
int64_t Variables::parameter_bytes() const {
  int64_t n = 0;
  for (const auto& [layer, ps] : params)
    for (const auto& [name, t] : ps) n += t.size() * item_size(t.dtype());
  return n;
}

Variables freeze(Variables vars, const std::vector<std::string>& names, Where where) {
  for (const std::string& name : names) {
    const size_t dot = name.find('.');
    const std::string layer = name.substr(0, dot);
    auto it = vars.params.find(layer);
    if (it == vars.params.end() || (dot != std::string::npos && !it->second.count(name.substr(dot + 1))))
      throw ValueError("nn.freeze", "no parameter or layer named '" + name + "'", where);
    if (std::find(vars.frozen.begin(), vars.frozen.end(), name) == vars.frozen.end()) vars.frozen.push_back(name);
  }
  std::sort(vars.frozen.begin(), vars.frozen.end());
  return vars;
}
Variables unfreeze(Variables vars, const std::vector<std::string>& names) {
  if (names.empty()) vars.frozen.clear();
  for (const std::string& name : names) std::erase(vars.frozen, name);
  return vars;
}
bool is_frozen(const Variables& vars, const std::string& layer, const std::string& param) {
  for (const std::string& f : vars.frozen)
    if (f == layer || f == layer + "." + param) return true;
  return false;
}

// ---- Scope ----
Tensor Scope::param(const std::string& name, const Shape& shape, const Initializer& init) {
  detail::RunContext& ctx = *impl_->ctx;
  const std::string& layer = *impl_->layer;
  const std::string op = layer + " (" + impl_->node->layer->op + ")";
  Tensor p;
  if (ctx.init) {
    auto& made = ctx.params[layer];
    auto it = made.find(name);
    if (it == made.end()) {
      p = init(random::fold_in(ctx.key, ctx.created++, ctx.where), shape, ctx.policy.params);
      if (p.shape() != shape || p.dtype() != ctx.policy.params)
        throw ValueError(op, "the initializer of '" + name + "' made " + std::string(nx::name(p.dtype())) +
                                 p.shape().str() + ", not " + std::string(nx::name(ctx.policy.params)) + shape.str(),
                         ctx.where);
      made.emplace(name, p);
    } else {
      p = it->second;
    }
  } else {
    auto layer_it = ctx.vars->params.find(layer);
    if (layer_it == ctx.vars->params.end() || !layer_it->second.count(name))
      throw ValueError(op, "the variables have no parameter '" + name + "' for this layer (made by nn::init for this model?)",
                       ctx.where);
    p = layer_it->second.at(name);
    if (is_frozen(*ctx.vars, layer, name)) p = stop_grad(p);
  }
  if (p.shape() != shape) {
    std::string given;
    for (const Tensor& x : *impl_->inputs) given += (given.empty() ? "" : ", ") + x.shape().str();
    throw ShapeError(op, "parameter '" + name + "' is " + p.shape().str() + " but the input " + given + " needs " +
                             shape.str(),
                     ctx.where);
  }
  return p.dtype() == ctx.policy.compute || !is_float(p.dtype()) ? p : as_type(p, ctx.policy.compute, ctx.where);
}

Tensor Scope::state(const std::string& name, const Shape& shape, const Initializer& init, DType dtype) {
  detail::RunContext& ctx = *impl_->ctx;
  const std::string& layer = *impl_->layer;
  const std::string op = layer + " (" + impl_->node->layer->op + ")";
  Tensor s;
  if (ctx.init) {
    auto& made = ctx.state[layer];
    auto it = made.find(name);
    if (it == made.end()) s = made.emplace(name, init(random::fold_in(ctx.key, ctx.created++, ctx.where), shape, dtype)).first->second;
    else s = it->second;
  } else {
    auto layer_it = ctx.vars->state.find(layer);
    if (layer_it == ctx.vars->state.end() || !layer_it->second.count(name))
      throw ValueError(op, "the variables have no state '" + name + "' for this layer", ctx.where);
    s = layer_it->second.at(name);
  }
  if (s.shape() != shape)
    throw ShapeError(op, "state '" + name + "' is " + s.shape().str() + " but this input needs " + shape.str(), ctx.where);
  return s;
}

void Scope::set_state(const std::string& name, const Tensor& value) {
  detail::RunContext& ctx = *impl_->ctx;
  if (ctx.init || !ctx.training) return;
  auto layer_it = ctx.state.find(*impl_->layer);
  if (layer_it == ctx.state.end() || !layer_it->second.count(name))
    throw ValueError(*impl_->layer + " (" + impl_->node->layer->op + ")",
                     "set_state('" + name + "') of a state this layer never made with Scope::state", ctx.where);
  Tensor& slot = layer_it->second.at(name);
  slot = stop_grad(as_type(value, slot.dtype(), ctx.where), ctx.where);
}

bool Scope::training() const { return impl_->ctx->training; }

Tensor Scope::key() const {
  const detail::RunContext& ctx = *impl_->ctx;
  if (!ctx.key.defined()) {
    if (ctx.training)
      throw ValueError(*impl_->layer + " (" + impl_->node->layer->op + ")",
                       "training mode needs a random key: nn::ApplyOpts{.training = true, .key = nx::random::key(0)}",
                       ctx.where);
    return random::key(0, ctx.where);
  }
  return random::fold_in(ctx.key, static_cast<int64_t>(impl_->index), ctx.where);
}

DType Scope::compute_dtype() const { return impl_->ctx->policy.compute; }
const std::string& Scope::layer_name() const { return *impl_->layer; }

// ---- Layer, Node ----
Layer::Layer(LayerSpec spec) : spec_(std::make_shared<const LayerSpec>(std::move(spec))) {}

Layer Layer::named(std::string name) const {
  LayerSpec s = *spec_;
  s.name = std::move(name);
  return Layer(std::move(s));
}

Node Layer::operator()(const Node& x, Where where) const { return (*this)(std::vector<Node>{x}, where); }

Node Layer::operator()(const std::vector<Node>& xs, Where where) const {
  const int n = static_cast<int>(xs.size());
  if (spec_->arity >= 0 ? n != spec_->arity : n < 1)
    throw ValueError("nn." + spec_->op,
                     "takes " + (spec_->arity >= 0 ? std::to_string(spec_->arity) : std::string("one or more")) +
                         " input(s), given " + std::to_string(n),
                     where);
  for (const Node& x : xs)
    if (!x.defined()) throw ValueError("nn." + spec_->op, "an input node is undefined", where);
  Node node;
  node.impl_ = std::make_shared<const NodeImpl>(NodeImpl{spec_, xs, where});
  return node;
}

const LayerSpec& Node::layer() const { return *impl_->layer; }
const std::vector<Node>& Node::inputs() const { return impl_->inputs; }

Node input(const std::string& name, std::vector<int64_t> dims, DType dtype, Where where) {
  if (name.empty()) throw ValueError("nn.input", "needs a name", where);
  for (int64_t d : dims)
    if (d < -1) throw ShapeError("nn.input " + name, "dims are sizes or -1 (any size), given " + detail::dims_str(dims), where);
  LayerSpec s;
  s.op = "input";
  s.name = name;
  s.arity = 0;
  s.input_name = name;
  s.input_dims = std::move(dims);
  s.input_dtype = dtype;
  Node node;
  Layer layer(std::move(s));
  return layer(std::vector<Node>{}, where);
}

Layer layer(const std::string& op, LayerFn forward, int arity, std::string options) {
  LayerSpec s;
  s.op = op;
  s.forward = std::move(forward);
  s.arity = arity;
  s.options = std::move(options);
  return Layer(std::move(s));
}

Layer fn(const std::string& op, std::function<Tensor(const Tensor&)> f) {
  return layer(op, [f = std::move(f)](Scope&, const std::vector<Tensor>& xs) { return f(xs[0]); });
}

// ---- Inputs ----
std::vector<Tensor> Inputs::ordered(const Model& model, Where where) const {
  const auto& infos = model.inputs();
  if (!by_name_) {
    if (positional_.size() != infos.size())
      throw ValueError("nn.inputs", "the model takes " + std::to_string(infos.size()) + " input(s), given " +
                                        std::to_string(positional_.size()),
                       where);
    for (const Tensor& t : positional_)
      if (!t.defined()) throw ValueError("nn.inputs", "an input tensor is undefined", where);
    return positional_;
  }
  std::vector<Tensor> out;
  std::string names;
  for (const InputInfo& info : infos) {
    names += (names.empty() ? "" : ", ") + info.name;
    auto it = named_.find(info.name);
    if (it == named_.end()) throw ValueError("nn.inputs", "no tensor for input '" + info.name + "'", where);
    out.push_back(it->second);
  }
  for (const auto& entry : named_) {
    const std::string& name = entry.first;
    if (std::none_of(infos.begin(), infos.end(), [&](const InputInfo& i) { return i.name == name; }))
      throw ValueError("nn.inputs", "the model has no input '" + name + "' (its inputs: " + names + ")", where);
  }
  return out;
}

// ---- Model ----
Model::Model(const Node& output, ModelOpts opts, Where where) : Model(std::vector<Node>{output}, opts, where) {}

Model::Model(std::vector<Node> outputs, ModelOpts opts, Where where) : impl_(std::make_shared<ModelImpl>()) {
  if (outputs.empty()) throw ValueError("nn.Model", "needs at least one output node", where);
  ModelImpl& m = *impl_;
  m.policy = opts.policy;
  std::unordered_map<const NodeImpl*, size_t> position;
  // Depth first from the outputs, inputs before users; iterative (deep models).
  for (const Node& out : outputs) {
    if (!out.defined()) throw ValueError("nn.Model", "an output node is undefined", where);
    std::vector<std::pair<Node, size_t>> stack{{out, 0}};
    std::set<const NodeImpl*> on_stack{out.id()};
    while (!stack.empty()) {
      auto& [node, next] = stack.back();
      if (position.count(node.id())) {
        on_stack.erase(node.id());
        stack.pop_back();
        continue;
      }
      if (next < node.inputs().size()) {
        Node in = node.inputs()[next++];
        if (on_stack.count(in.id())) throw ValueError("nn.Model", "the layer graph has a cycle", where);
        if (!position.count(in.id())) {
          on_stack.insert(in.id());
          stack.emplace_back(in, 0);
        }
        continue;
      }
      position[node.id()] = m.nodes.size();
      m.nodes.push_back(node);
      on_stack.erase(node.id());
      stack.pop_back();
    }
  }
  // Names: the user's, or <op>_<n> by order of first application.
  std::unordered_map<const LayerSpec*, std::string> names;
  std::map<std::string, const LayerSpec*> taken;
  std::map<std::string, int> counts;
  for (const Node& n : m.nodes) {
    const LayerSpec* spec = &n.layer();
    if (names.count(spec) || spec->name.empty()) continue;
    auto [it, fresh] = taken.emplace(spec->name, spec);
    if (!fresh)
      throw ValueError("nn.Model", "two different layers are named '" + spec->name +
                                       "' (to share a layer's parameters, apply the same nn::Layer twice)",
                       where);
    names[spec] = spec->name;
  }
  for (const Node& n : m.nodes) {
    const LayerSpec* spec = &n.layer();
    if (names.count(spec)) continue;
    std::string name;
    do name = spec->op + "_" + std::to_string(counts[spec->op]++);
    while (taken.count(name));
    taken.emplace(name, spec);
    names[spec] = name;
  }
  for (size_t i = 0; i < m.nodes.size(); ++i) {
    const Node& n = m.nodes[i];
    m.layer_of.push_back(names.at(&n.layer()));
    std::vector<size_t> args;
    for (const Node& in : n.inputs()) args.push_back(position.at(in.id()));
    m.args.push_back(std::move(args));
    if (n.layer().op == "input") {
      for (const InputInfo& info : m.inputs)
        if (info.name == n.layer().input_name)
          throw ValueError("nn.Model", "two inputs are named '" + info.name + "'", where);
      m.input_nodes.push_back(i);
      m.inputs.push_back({n.layer().input_name, n.layer().input_dims, n.layer().input_dtype});
    }
  }
  for (const Node& out : outputs) m.outputs.push_back(position.at(out.id()));
  m.predict = std::make_shared<detail::PredictCache>(&m);
  m.init = std::make_shared<detail::InitCache>(&m);
}

const std::vector<InputInfo>& Model::inputs() const { return impl_->inputs; }
size_t Model::num_outputs() const { return impl_->outputs.size(); }
const Policy& Model::policy() const { return impl_->policy; }
std::vector<std::string> Model::layer_names() const {
  std::vector<std::string> out;
  for (size_t i = 0; i < impl_->nodes.size(); ++i)
    if (impl_->nodes[i].layer().op != "input" &&
        std::find(out.begin(), out.end(), impl_->layer_of[i]) == out.end())
      out.push_back(impl_->layer_of[i]);
  return out;
}

// ---- init, apply, predict ----
Variables init(const Model& model, const Tensor& key, const Inputs& example, Where where) {
  std::vector<Tensor> xs = example.ordered(model, where);
  if (!key.defined() || key.shape() != Shape{2})
    throw ValueError("nn.init", "needs a random key (nx::random::key(seed)), given " +
                                    (key.defined() ? key.shape().str() : std::string("an undefined tensor")),
                     where);
  detail::CallWhere call(where);
  return model.impl().init->jitted(key, xs);
}

Forward apply(const Model& model, const Variables& vars, const Inputs& inputs, ApplyOpts opts, Where where) {
  std::vector<Tensor> xs = inputs.ordered(model, where);
  detail::RunContext ctx;
  ctx.vars = &vars;
  ctx.training = opts.training;
  ctx.key = opts.key;
  ctx.policy = model.policy();
  ctx.where = where;
  ctx.state = vars.state;
  Forward f;
  f.outputs = detail::run(model.impl(), ctx, xs);
  f.state = std::move(ctx.state);
  return f;
}

std::vector<Tensor> predict_all(const Model& model, const Variables& vars, const Inputs& inputs, Where where) {
  std::vector<Tensor> xs = inputs.ordered(model, where);
  detail::CallWhere call(where);
  return model.impl().predict->jitted(vars, xs);
}

Tensor predict(const Model& model, const Variables& vars, const Inputs& inputs, Where where) {
  if (model.num_outputs() != 1)
    throw ValueError("nn.predict", "the model has " + std::to_string(model.num_outputs()) +
                                       " outputs: use nn::predict_all",
                     where);
  return predict_all(model, vars, inputs, where)[0];
}

}  // namespace nx::nn
