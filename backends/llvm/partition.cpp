#include "partition.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <tuple>
#include <unordered_map>

namespace nx::llvm_backend {
namespace {

// Why node n cannot be part of any kernel, or "" when it can.
std::string unfusable(const Node& n) {
  OpKind kind = op_kind(n.op);
  if (kind != OpKind::Unary && kind != OpKind::Binary && n.op != Op::Select && n.op != Op::AsType &&
      n.op != Op::Broadcast && !is_reduction(n.op))
    return "not elementwise or a sum/max/min";
  const TensorType& out = n.outputs[0];
  std::vector<DType> operands;
  for (const Value& v : n.inputs) operands.push_back(v.type().dtype);
  if (!kernel_supports(n.op, out.dtype, operands)) {
    std::string types;
    for (DType t : operands) types += (types.empty() ? "" : ", ") + std::string(name(t));
    return "no kernel code for " + std::string(op_name(n.op)) + " on " + types;
  }
  if (out.shape.size() == 0 || n.inputs[0].type().shape.size() == 0) return "empty";
  if (is_reduction(n.op)) {
    const std::vector<int64_t>& axes = n.attrs.axes;
    if (axes.empty()) return "reduces no axes";
    for (size_t k = 1; k < axes.size(); ++k)
      if (axes[k] != axes[k - 1] + 1) return "reduces axes that are not adjacent";
    if (axes.front() != 0 && axes.back() != n.inputs[0].type().shape.rank() - 1) return "reduces middle axes";
  }
  return "";
}

// How reduction n reduces its operand, and at which split of its (rows, cols) view.
std::pair<Mode, int> reduction_of(const Node& n) {
  const std::vector<int64_t>& axes = n.attrs.axes;
  int rank = n.inputs[0].type().shape.rank();
  if (static_cast<int>(axes.size()) == rank) return {Mode::all, 0};
  if (axes.back() == rank - 1) return {Mode::rows, static_cast<int>(axes.front())};
  return {Mode::cols, static_cast<int>(axes.back()) + 1};
}

// Whether n reads some operand as a row or a column (not whole, not a scalar).
bool has_broadcast(const Node& n);

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

bool has_broadcast(const Node& n) {
  for (const Value& v : n.inputs)
    if (Shape in = aligned(n, v); in != n.outputs[0].shape && in.size() != 1) return true;
  return false;
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
  std::vector<bool> closed;         // per group: no more members (a later node outside it reads it)
  std::vector<bool> reduced(count);  // per member: a value per row (column, kernel), not per element
  auto group = [&](int gi) -> Group& { return p.groups[static_cast<size_t>(gi)]; };
  auto open = [&](int gi) { return gi >= 0 && !closed[static_cast<size_t>(gi)] && !group(gi).nodes.empty(); };
  auto range_of = [&](int gi) { return Range{group(gi).split_lo, group(gi).split_hi}; };
  auto member = [&](const Value& v, int gi) { return p.group_of[at(v)] == gi; };
  struct Fit {
    Range range;
    bool reduced;
  };
  // Whether n can join group gi (its broadcast inputs narrowing `range`, the splits
  // allowed so far), and as a per-element or a per-row value.
  auto fit = [&](const Node& n, int gi, Range range) -> std::optional<Fit> {
    if (!open(gi)) return std::nullopt;
    const Group& grp = group(gi);
    Mode mode = grp.spec.mode;
    if (is_reduction(n.op)) {
      const Value& x = n.inputs[0];
      if (x.type().shape != grp.shape || (member(x, gi) && reduced[at(x)])) return std::nullopt;
      auto [want, k] = reduction_of(n);
      if (mode != Mode::elementwise && mode != want) return std::nullopt;
      if (want == Mode::all) {
        if (grp.broadcasts) return std::nullopt;
        return Fit{range_of(gi), true};
      }
      Range r = range_of(gi) & Range{k, k};
      if (r.empty()) return std::nullopt;
      return Fit{r, true};
    }
    const Shape& shape = n.outputs[0].shape;
    if (shape == grp.shape) {
      bool broadcasts = has_broadcast(n);
      for (const Value& v : n.inputs)
        if (member(v, gi) && reduced[at(v)] &&
            (mode != Mode::rows || (splits(aligned(n, v), shape).second & Range{grp.split_lo, grp.split_lo}).empty()))
          return std::nullopt;
      if (mode == Mode::all && broadcasts) return std::nullopt;
      Range r = range & range_of(gi);
      if ((shape.rank() >= 2 && r.empty() && (mode != Mode::all || broadcasts)) || !narrow(n, r)) return std::nullopt;
      return Fit{r, false};
    }
    // A per-row value of a rows kernel: from its per-row values, scalars and
    // outside values of its own shape (read per row).
    int64_t rows = 1;
    for (int d = 0; d < grp.split_lo; ++d) rows *= grp.shape[d];
    if (mode != Mode::rows || shape.size() != rows) return std::nullopt;
    if (n.op == Op::Broadcast && n.inputs[0].type().shape.size() != shape.size()) return std::nullopt;
    bool reads_group = false;
    for (const Value& v : n.inputs) {
      const Shape& in = v.type().shape;
      if (member(v, gi)) {
        if (!reduced[at(v)]) return std::nullopt;
        reads_group = true;
      }
      if (in.size() != 1 && in != shape && n.op != Op::Broadcast) return std::nullopt;
    }
    if (!reads_group) return std::nullopt;
    return Fit{range_of(gi), true};
  };
  for (size_t i = 0; i < count; ++i) {
    const Node& n = *g.nodes[i];
    std::string why = unfusable(n);
    int target = -1;
    Fit at_target{{0, -1}, false};
    if (why.empty()) {
      const Shape& shape = is_reduction(n.op) ? n.inputs[0].type().shape : n.outputs[0].shape;
      Range start{1, shape.rank() - 1};  // empty below rank 2: then only scalars broadcast
      // Join the open groups n reads from (merging them: none has a reader outside yet),
      // else the latest open group it fits (siblings share a loop), else a new one.
      for (const Value& v : n.inputs) {
        int gi = p.group_of[at(v)];
        if (gi < 0 || gi == target) continue;
        std::optional<Fit> f = fit(n, gi, target < 0 ? start : at_target.range);
        if (!f) continue;
        if (target < 0) {
          target = gi, at_target = *f;
          continue;
        }
        Group& from = group(gi);
        Group& into = group(target);
        Mode a = into.spec.mode, b = from.spec.mode;
        if (f->reduced || at_target.reduced || from.shape != into.shape ||
            (a != Mode::elementwise && b != Mode::elementwise && a != b) ||
            ((a == Mode::all || b == Mode::all) && (into.broadcasts || from.broadcasts)))
          continue;
        at_target.range = f->range;
        if (a == Mode::elementwise) into.spec.mode = b;
        into.broadcasts |= from.broadcasts;
        for (size_t m : from.nodes) p.group_of[m] = target;
        into.nodes.insert(into.nodes.end(), from.nodes.begin(), from.nodes.end());
        std::sort(into.nodes.begin(), into.nodes.end());
        from.nodes.clear();
        closed[static_cast<size_t>(gi)] = true;
      }
      for (int gi = static_cast<int>(p.groups.size()) - 1; target < 0 && gi >= 0; --gi)
        if (std::optional<Fit> f = fit(n, gi, start)) target = gi, at_target = *f;
      if (target < 0) {
        Group fresh;
        fresh.shape = shape;
        if (is_reduction(n.op)) {
          auto [mode, k] = reduction_of(n);
          fresh.spec.mode = mode;
          start = mode == Mode::all ? Range{1, 0} : Range{k, k};
          at_target = {start, true};
        } else {
          at_target = {start, false};
          if (!narrow(n, at_target.range)) why = "an input broadcasts along middle axes (neither a row nor a column)";
        }
        if (why.empty()) {
          target = static_cast<int>(p.groups.size());
          p.groups.push_back(std::move(fresh));
          closed.push_back(false);
        }
      }
    }
    if (why.empty()) {
      Group& grp = group(target);
      grp.split_lo = at_target.range.lo;
      grp.split_hi = at_target.range.hi;
      if (is_reduction(n.op)) grp.spec.mode = reduction_of(n).first;
      grp.broadcasts |= !at_target.reduced && has_broadcast(n);
      grp.nodes.push_back(i);
      reduced[i] = at_target.reduced;
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
    int k = grp.spec.mode == Mode::all ? 0 : grp.split_lo;  // the (rows, cols) view: dims < k and dims >= k
    grp.rows = grp.cols = 1;
    for (int d = 0; d < grp.shape.rank(); ++d) (d < k ? grp.rows : grp.cols) *= grp.shape[d];
    grp.spec.two_d = grp.spec.mode == Mode::rows || grp.spec.mode == Mode::cols;
    grp.spec.scratch = grp.spec.mode == Mode::rows && grp.cols <= kScratchCols;
    std::unordered_map<size_t, int> instr_of;  // node -> its instruction
    std::map<std::tuple<size_t, size_t, KernelSpec::Access>, int> input_instr;  // (node, output, access) -> its load
    for (size_t i : grp.nodes) {
      const Node& n = *g.nodes[i];
      KernelSpec::Instr ins{n.op, n.outputs[0].dtype, {}, -1, reduced[i]};
      for (const Value& v : n.inputs) {
        size_t src = at(v);
        if (auto it = instr_of.find(src); it != instr_of.end()) {
          ins.operands.push_back(it->second);
          continue;
        }
        KernelSpec::Access how = !reduced[i] || is_reduction(n.op) ? access(aligned(n, v), grp)
                                 : v.type().shape.size() == 1  ? KernelSpec::Access::scalar
                                                               : KernelSpec::Access::row;
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
    size_t out_bytes = 0;
    for (size_t i : grp.nodes)
      if (escapes[i]) out_bytes += g.nodes[i]->outputs[0].bytes();
    // Rows kernels stream only whole-cache-line rows (their vector stores must be aligned).
    grp.spec.stream = out_bytes >= kStreamBytes && ((grp.spec.mode == Mode::elementwise && !grp.spec.two_d) ||
                                                    (grp.spec.mode == Mode::rows && grp.cols % 64 == 0));
  }
  return p;
}

std::string Partition::describe(const Graph& g) const {
  std::string s;
  for (size_t k = 0; k < groups.size(); ++k) {
    static const char* const modes[] = {"", " reducing rows", " reducing columns", " reducing all"};
    s += "kernel " + std::to_string(k) + " " + groups[k].shape.str() + modes[static_cast<int>(groups[k].spec.mode)] + ":";
    for (size_t i : groups[k].nodes) s += " %" + std::to_string(i) + " " + std::string(op_name(g.nodes[i]->op));
    s += '\n';
  }
  for (size_t i = 0; i < refusal.size(); ++i)
    if (group_of[i] < 0 && g.nodes[i]->op != Op::Parameter && g.nodes[i]->op != Op::Constant)
      s += "%" + std::to_string(i) + " " + std::string(op_name(g.nodes[i]->op)) + " not fused: " + refusal[i] + '\n';
  return s;
}

}  // namespace nx::llvm_backend
