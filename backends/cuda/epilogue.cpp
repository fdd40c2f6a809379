#include "epilogue.hpp"

#include <algorithm>
#include <cstring>
#include <unordered_map>

#include "blaslt.hpp"
#include "nx/detail/dot_axes.hpp"

namespace nx::cuda_backend {
namespace {

using fusion::KernelSpec;

bool all_zero_bytes(const Buffer& b) {
  const auto* p = static_cast<const unsigned char*>(b.data());
  return std::all_of(p, p + b.bytes(), [](unsigned char c) { return c == 0; });
}

// The product that may take an epilogue: cuBLASLt's dtypes, no batch axes, one free axis
// on the right (the output's last, which the bias runs along).
bool plain_product(const Node& n) {
  if (n.op != Op::DotGeneral) return false;
  DType t = n.outputs[0].dtype;
  if (t != DType::f32 && t != DType::bf16 && t != DType::f16) return false;
  if (!lt_supports(t, n.inputs[0].type().dtype, n.inputs[1].type().dtype)) return false;
  const Attrs& a = n.attrs;
  return a.lhs_batch.empty() && detail::free_axes(n.inputs[1].type().shape.rank(), a.rhs_contract, a.rhs_batch).size() == 1;
}

}  // namespace

std::vector<EpilogueFusion> find_epilogues(const Graph& g, const fusion::Partition& part) {
  std::unordered_map<const Node*, size_t> index;
  for (size_t i = 0; i < g.nodes.size(); ++i) index[g.nodes[i].get()] = i;
  // Per node: how many nodes read it, a graph result counting as a reader too.
  std::vector<int> readers(g.nodes.size(), 0);
  for (size_t j = 0; j < g.nodes.size(); ++j)
    for (const Value& v : g.nodes[j]->inputs) ++readers[index.at(v.node.get())];
  for (const Value& v : g.outputs) ++readers[index.at(v.node.get())];

  std::vector<EpilogueFusion> found;
  for (size_t gi = 0; gi < part.groups.size(); ++gi) {
    const fusion::Group& grp = part.groups[gi];
    const KernelSpec& s = grp.spec;
    if (s.mode != fusion::Mode::elementwise || s.outputs.size() != 1) continue;
    // The code: loads, broadcasts, one add of the product and the bias, maybe a max with 0.
    int dot_in = -1, bias_in = -1, add = -1, relu = -1;
    std::vector<int> origin(s.code.size(), -1);  // per value: the input it loads (through broadcasts)
    bool plain = true;
    for (size_t i = 0; i < s.code.size() && plain; ++i) {
      const KernelSpec::Instr& ins = s.code[i];
      if (ins.map >= 0) plain = false;
      else if (ins.op == Op::Parameter) origin[i] = ins.input;
      else if (ins.op == Op::Broadcast) origin[i] = origin[static_cast<size_t>(ins.operands[0])];
      else if (ins.op == Op::Add && add < 0) add = static_cast<int>(i);
      else if (ins.op == Op::Max && relu < 0 && add >= 0) relu = static_cast<int>(i);
      else plain = false;
    }
    if (!plain || add < 0 || s.outputs[0] != (relu >= 0 ? relu : add)) continue;
    for (int operand : s.code[static_cast<size_t>(add)].operands) {
      int k = origin[static_cast<size_t>(operand)];
      if (k < 0) continue;
      auto access = s.inputs[static_cast<size_t>(k)].access;
      if (access == KernelSpec::Access::full && s.code[static_cast<size_t>(operand)].op == Op::Parameter) dot_in = k;
      if (access == KernelSpec::Access::col) bias_in = k;
    }
    if (dot_in < 0 || bias_in < 0 || dot_in == bias_in) continue;
    if (relu >= 0) {  // max(add, 0) in either order, 0 a constant
      const auto& ops = s.code[static_cast<size_t>(relu)].operands;
      int other = ops[0] == add ? ops[1] : ops[1] == add ? ops[0] : -1;
      int k = other < 0 ? -1 : origin[static_cast<size_t>(other)];
      if (k < 0 || s.inputs[static_cast<size_t>(k)].access != KernelSpec::Access::scalar) continue;
      const Node& zero = *g.nodes[grp.inputs[static_cast<size_t>(k)].node];
      if (zero.op != Op::Constant || !all_zero_bytes(*zero.constant)) continue;
    }
    const fusion::ValueRef& product = grp.inputs[static_cast<size_t>(dot_in)];
    const Node& dot = *g.nodes[product.node];
    if (!plain_product(dot) || readers[product.node] != 1 || grp.cols != dot.outputs[0].shape[dot.outputs[0].shape.rank() - 1] ||
        grp.rows * grp.cols != dot.outputs[0].shape.size())
      continue;
    const fusion::ValueRef& bias = grp.inputs[static_cast<size_t>(bias_in)];
    const TensorType& bias_type = g.nodes[bias.node]->outputs[bias.index];
    if (bias_type.dtype != dot.outputs[0].dtype || bias_type.shape.size() != grp.cols) continue;
    found.push_back({gi, product.node, static_cast<size_t>(bias_in), relu >= 0});
  }
  return found;
}

}  // namespace nx::cuda_backend
