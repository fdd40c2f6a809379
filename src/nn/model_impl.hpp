// What nn's sources share: the compiled model graph and one forward run over it.
#pragma once
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "nx/nn/model.hpp"

namespace nx::nn::detail {

struct NodeImpl {
  std::shared_ptr<const LayerSpec> layer;
  std::vector<Node> inputs;
  Where where;  // where the layer was applied
};

// One node's shapes as a run saw them (for the model table).
struct NodeRecord {
  std::vector<Shape> input_shapes;
  Shape output_shape;
  DType output_dtype = f32;
};

// A forward pass in progress: in init mode parameters are made from their initializers
// (the run is traced, so only shapes are computed); in apply mode they come from `vars`.
struct RunContext {
  bool init = false;
  const Variables* vars = nullptr;
  bool training = false;
  Tensor key;       // apply: ApplyOpts::key; init: the key the initializers split
  Policy policy;
  Where where;      // the user's call
  ParamTree params, state;  // init: made so far; apply: the state after the run
  std::vector<NodeRecord>* records = nullptr;
  int64_t created = 0;  // init: parameters and states made so far (each gets its own key)
};

struct ScopeImpl {
  RunContext* ctx;
  const std::string* layer;
  const NodeImpl* node;
  size_t index;  // of the node in the model's order
  const std::vector<Tensor>* inputs;
};

class PredictCache;
class InitCache;

struct ModelImpl {
  std::vector<Node> nodes;              // every node, inputs before their users
  std::vector<std::string> layer_of;    // per node: its layer's name (an input: the input's name)
  std::vector<std::vector<size_t>> args;  // per node: its inputs' positions in `nodes`
  std::vector<size_t> outputs;          // positions of the output nodes
  std::vector<size_t> input_nodes;      // positions of the input nodes, in model input order
  std::vector<InputInfo> inputs;
  Policy policy;
  std::shared_ptr<PredictCache> predict;
  std::shared_ptr<InitCache> init;
};

// Runs the model's nodes on `inputs` (ordered as the model's inputs).
std::vector<Tensor> run(const ModelImpl& m, RunContext& ctx, const std::vector<Tensor>& inputs);

// "(?, 1, 28, 28)" for dims with -1 as ?.
std::string dims_str(const std::vector<int64_t>& dims);

}  // namespace nx::nn::detail
