#include "eager_plans.hpp"

#include <algorithm>
#include <mutex>
#include <unordered_map>

namespace nx::cuda_backend {
namespace {

constexpr size_t kMaxPlans = 4096;  // then they are forgotten and made again as needed

void mix(size_t& h, size_t v) { h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2); }
void mix(size_t& h, const TensorType& t) {
  mix(h, static_cast<size_t>(t.dtype));
  for (int64_t d : t.shape.to_vector()) mix(h, static_cast<size_t>(d));
}

bool same(const EagerPlan& p, const Node& node, std::span<const TensorType> types) {
  return p.op == node.op && p.attrs == node.attrs && std::equal(p.inputs.begin(), p.inputs.end(), types.begin(), types.end()) &&
         p.outputs == node.outputs;
}

std::shared_ptr<const EagerPlan> make_plan(const Node& node, std::span<const TensorType> types) {
  auto p = std::make_shared<EagerPlan>();
  p->op = node.op;
  p->attrs = node.attrs;
  p->inputs.assign(types.begin(), types.end());
  p->outputs = node.outputs;
  p->graph = single_node_graph(node, types);
  p->part = partition(p->graph, {}, cuda_caps());
  const Graph& g = p->graph;
  auto at = std::find_if(g.nodes.begin(), g.nodes.end(), [&](const auto& n) { return n == g.outputs[0].node; });
  p->group = p->part.group_of[static_cast<size_t>(at - g.nodes.begin())];
  if (p->group >= 0) p->kernel = load_kernel(p->part.groups[static_cast<size_t>(p->group)].spec);
  return p;
}

struct Plans {
  std::mutex mu;
  std::unordered_map<size_t, std::vector<std::shared_ptr<const EagerPlan>>> by_hash;
  size_t count = 0;
};

}  // namespace

std::shared_ptr<const EagerPlan> eager_plan(const Node& node, std::span<const TensorType> types) {
  // Loops, branches and callbacks hold graphs or functions: planned each time.
  if (!node.attrs.bodies.empty() || node.attrs.callback) return make_plan(node, types);
  size_t h = node.attrs.hash();
  mix(h, static_cast<size_t>(node.op));
  for (const TensorType& t : types) mix(h, t);
  for (const TensorType& t : node.outputs) mix(h, t);
  static auto* plans = new Plans;  // lives for the process
  {
    std::lock_guard lock(plans->mu);
    if (auto it = plans->by_hash.find(h); it != plans->by_hash.end())
      for (const auto& p : it->second)
        if (same(*p, node, types)) return p;
  }
  std::shared_ptr<const EagerPlan> p = make_plan(node, types);  // outside the lock: it may compile
  std::lock_guard lock(plans->mu);
  if (plans->count >= kMaxPlans) {
    plans->by_hash.clear();
    plans->count = 0;
  }
  plans->by_hash[h].push_back(p);
  ++plans->count;
  return p;
}

}  // namespace nx::cuda_backend
