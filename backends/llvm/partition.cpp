#include "partition.hpp"

#include <algorithm>
#include <map>
#include <tuple>
#include <unordered_map>

namespace nx::llvm_backend {
namespace {

// Why node n cannot be part of any kernel, or "" when it can.
std::string unfusable(const Node& n) {
  OpKind kind = op_kind(n.op);
  if (kind != OpKind::Unary && kind != OpKind::Binary && n.op != Op::Select && n.op != Op::AsType &&
      n.op != Op::Broadcast)
    return "not elementwise";
  const TensorType& out = n.outputs[0];
  std::vector<DType> operands;
  for (const Value& v : n.inputs) operands.push_back(v.type().dtype);
  if (!kernel_supports(n.op, out.dtype, operands)) {
    std::string types;
    for (DType t : operands) types += (types.empty() ? "" : ", ") + std::string(name(t));
    return "no kernel code for " + std::string(op_name(n.op)) + " on " + types;
  }
  if (out.shape.size() == 0) return "empty";
  return "";
}

// Input v of node n as the kernel indexes it: a broadcast's operand with 1s on the
// result axes it does not map to; any other operand as it is (numpy right-alignment).
Shape aligned(const Node& n, const Value& v) {
  if (n.op != Op::Broadcast) return v.type().shape;
  std::vector<int64_t> d(static_cast<size_t>(n.outputs[0].shape.rank()), 1);
  for (size_t i = 0; i < n.attrs.axes.size(); ++i) d[static_cast<size_t>(n.attrs.axes[i])] = v.type().shape[static_cast<int>(i)];
  return Shape(d);
}

struct Range {
  int lo, hi;
  bool empty() const { return lo > hi; }
  Range operator&(Range o) const { return {std::max(lo, o.lo), std::min(hi, o.hi)}; }
};

// The splits k at which `in` (right-aligned to `out`) reads as a column (broadcast on
// dims < k, full on dims >= k) or as a row (full on dims < k, broadcast on dims >= k).
std::pair<Range, Range> splits(const Shape& in, const Shape& out) {
  int r = out.rank(), max_b = -1, min_b = r, max_f = -1, min_f = r;
  for (int d = 0; d < r; ++d) {
    int64_t id = d - (r - in.rank()) >= 0 ? in[d - (r - in.rank())] : 1;
    if (out[d] == 1) continue;
    if (id == 1) max_b = std::max(max_b, d), min_b = std::min(min_b, d);
    else max_f = std::max(max_f, d), min_f = std::min(min_f, d);
  }
  Range valid{1, r - 1};
  return {Range{max_b + 1, min_f} & valid, Range{max_f + 1, min_b} & valid};
}

// Narrows `range` so that each broadcast input of n reads as a row or a column there.
bool narrow(const Node& n, Range& range) {
  const Shape& out = n.outputs[0].shape;
  for (const Value& v : n.inputs) {
    Shape in = aligned(n, v);
    if (in == out || in.size() == 1) continue;
    auto [col, row] = splits(in, out);
    Range r = !(col & range).empty() ? col & range : row & range;
    if (r.empty()) return false;
    range = r;
  }
  return true;
}

KernelSpec::Access access(const Shape& in, const Group& grp) {
  if (in == grp.shape) return KernelSpec::Access::full;
  if (in.size() == 1) return KernelSpec::Access::scalar;
  Range at{grp.split_lo, grp.split_lo};
  return !(splits(in, grp.shape).first & at).empty() ? KernelSpec::Access::col : KernelSpec::Access::row;
}

}  // namespace

Partition partition(const Graph& g) {
  size_t count = g.nodes.size();
  std::unordered_map<const Node*, size_t> slot;
  for (size_t i = 0; i < count; ++i) slot[g.nodes[i].get()] = i;
  auto at = [&](const Value& v) { return slot.at(v.node.get()); };
  Partition p;
  p.group_of.assign(count, -1);
  p.refusal.assign(count, "");
  std::vector<bool> closed;  // per group: no more members (a later node outside it reads it)
  for (size_t i = 0; i < count; ++i) {
    const Node& n = *g.nodes[i];
    std::string why = unfusable(n);
    int target = -1;
    Range range{0, -1};
    if (why.empty()) {
      const Shape& shape = n.outputs[0].shape;
      auto open = [&](int gi) {
        return gi >= 0 && !closed[static_cast<size_t>(gi)] && p.groups[static_cast<size_t>(gi)].shape == shape;
      };
      auto range_of = [&](int gi) { return Range{p.groups[static_cast<size_t>(gi)].split_lo, p.groups[static_cast<size_t>(gi)].split_hi}; };
      range = Range{1, shape.rank() - 1};  // empty below rank 2: then only scalars broadcast
      auto fits = [&](Range& r) { return (shape.rank() < 2 || !r.empty()) && narrow(n, r); };
      // Join the open groups n reads from (merging them: none has a reader outside yet),
      // else the latest open group of the same shape (siblings share a loop), else a new
      // one; each time only if the broadcast inputs still read as rows or columns.
      for (const Value& v : n.inputs) {
        int gi = p.group_of[at(v)];
        if (!open(gi) || gi == target) continue;
        Range r = range & range_of(gi);
        if (!fits(r)) continue;
        range = r;
        if (target < 0) {
          target = gi;
          continue;
        }
        Group& from = p.groups[static_cast<size_t>(gi)];
        Group& into = p.groups[static_cast<size_t>(target)];
        for (size_t m : from.nodes) p.group_of[m] = target;
        into.nodes.insert(into.nodes.end(), from.nodes.begin(), from.nodes.end());
        std::sort(into.nodes.begin(), into.nodes.end());
        from.nodes.clear();
        closed[static_cast<size_t>(gi)] = true;
      }
      for (int gi = static_cast<int>(p.groups.size()) - 1; target < 0 && gi >= 0; --gi) {
        if (!open(gi) || p.groups[static_cast<size_t>(gi)].nodes.empty()) continue;
        Range r = range_of(gi);
        if (fits(r)) target = gi, range = r;
      }
      if (target < 0) {
        range = Range{1, shape.rank() - 1};
        if (!fits(range)) why = "an input broadcasts along middle axes (neither a row nor a column)";
      }
    }
    if (why.empty()) {
      if (target < 0) {
        target = static_cast<int>(p.groups.size());
        p.groups.push_back({});
        p.groups.back().shape = n.outputs[0].shape;
        closed.push_back(false);
      }
      p.groups[static_cast<size_t>(target)].split_lo = range.lo;
      p.groups[static_cast<size_t>(target)].split_hi = range.hi;
      Group& grp = p.groups[static_cast<size_t>(target)];
      grp.nodes.push_back(i);
      p.group_of[i] = target;
      if (grp.nodes.size() >= kMaxGroupNodes) closed[static_cast<size_t>(target)] = true;
    } else {
      p.refusal[i] = why;
    }
    for (const Value& v : n.inputs) {  // reading another group's value closes it
      int gi = p.group_of[at(v)];
      if (gi >= 0 && gi != target) closed[static_cast<size_t>(gi)] = true;
    }
  }
  // Drop the groups emptied by merges.
  std::vector<Group> kept;
  std::vector<int> renumber(p.groups.size(), -1);
  for (size_t k = 0; k < p.groups.size(); ++k)
    if (!p.groups[k].nodes.empty()) renumber[k] = static_cast<int>(kept.size()), kept.push_back(std::move(p.groups[k]));
  p.groups = std::move(kept);
  for (int& gi : p.group_of)
    if (gi >= 0) gi = renumber[static_cast<size_t>(gi)];
  // Each group's kernel: inputs, straight-line code, and the values that leave it.
  std::vector<bool> escapes(count);
  for (size_t i = 0; i < count; ++i)
    for (const Value& v : g.nodes[i]->inputs)
      if (p.group_of[at(v)] != p.group_of[i] || p.group_of[i] < 0) escapes[at(v)] = true;
  for (const Value& v : g.outputs) escapes[at(v)] = true;
  for (Group& grp : p.groups) {
    int k = grp.split_lo;  // the (rows, cols) view: dims < k and dims >= k
    grp.rows = grp.cols = 1;
    for (int d = 0; d < grp.shape.rank(); ++d) (d < k ? grp.rows : grp.cols) *= grp.shape[d];
    std::unordered_map<size_t, int> instr_of;  // node -> its instruction
    std::map<std::tuple<size_t, size_t, KernelSpec::Access>, int> input_instr;  // (node, output, access) -> its load
    for (size_t i : grp.nodes) {
      const Node& n = *g.nodes[i];
      KernelSpec::Instr ins{n.op, n.outputs[0].dtype, {}, -1};
      for (const Value& v : n.inputs) {
        size_t src = at(v);
        if (auto it = instr_of.find(src); it != instr_of.end()) {
          ins.operands.push_back(it->second);
          continue;
        }
        KernelSpec::Access how = access(aligned(n, v), grp);
        auto [it, fresh] = input_instr.emplace(std::tuple{src, static_cast<size_t>(v.index), how}, 0);
        if (fresh) {
          grp.inputs.push_back({src, static_cast<size_t>(v.index)});
          grp.spec.inputs.push_back({v.type().dtype, how});
          grp.spec.two_d |= grp.spec.inputs.back().access == KernelSpec::Access::row ||
                            grp.spec.inputs.back().access == KernelSpec::Access::col;
          grp.spec.code.push_back({Op::Parameter, v.type().dtype, {}, static_cast<int>(grp.inputs.size() - 1)});
          it->second = static_cast<int>(grp.spec.code.size() - 1);
        }
        ins.operands.push_back(it->second);
      }
      grp.spec.code.push_back(std::move(ins));
      instr_of[i] = static_cast<int>(grp.spec.code.size() - 1);
      if (escapes[i]) {
        grp.outputs.push_back(i);
        grp.spec.outputs.push_back(instr_of[i]);
      }
    }
  }
  return p;
}

std::string Partition::describe(const Graph& g) const {
  std::string s;
  for (size_t k = 0; k < groups.size(); ++k) {
    s += "kernel " + std::to_string(k) + " " + groups[k].shape.str() + ":";
    for (size_t i : groups[k].nodes) s += " %" + std::to_string(i) + " " + std::string(op_name(g.nodes[i]->op));
    s += '\n';
  }
  for (size_t i = 0; i < refusal.size(); ++i)
    if (group_of[i] < 0 && g.nodes[i]->op != Op::Parameter && g.nodes[i]->op != Op::Constant)
      s += "%" + std::to_string(i) + " " + std::string(op_name(g.nodes[i]->op)) + " not fused: " + refusal[i] + '\n';
  return s;
}

}  // namespace nx::llvm_backend
