#include "nx/detail/fusion/partition.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <tuple>
#include <unordered_map>

#include "nx/detail/fusion/index_map.hpp"

namespace nx::fusion {
namespace {

// Why node n cannot be part of any kernel, or "" when it can.
std::string unfusable(const Node& n, const KernelCaps& caps) {
  OpKind kind = op_kind(n.op);
  if (kind != OpKind::Unary && kind != OpKind::Binary && n.op != Op::Select && n.op != Op::AsType &&
      n.op != Op::Broadcast && !is_reduction(n.op))
    return "not elementwise or a sum/max/min";
  const TensorType& out = n.outputs[0];
  std::vector<DType> operands;
  for (const Value& v : n.inputs) operands.push_back(v.type().dtype);
  if (!caps.supports(n.op, out.dtype, operands)) {
    std::string types;
    for (DType t : operands) types += (types.empty() ? "" : ", ") + std::string(name(t));
    return "no kernel code for " + std::string(op_name(n.op)) + " on " + types;
  }
  if (out.shape.size() == 0 || n.inputs[0].type().shape.size() == 0) return "empty";
  if (is_reduction(n.op) && n.attrs.axes.empty()) return "reduces no axes";
  return "";
}


// Why shape op n cannot be read through (an index map) inside kernels; "" when it can.
// n.op is a shape op or iota.
std::string unviewable(const Node& n, const KernelCaps& caps) {
  DType t = n.outputs[0].dtype;
  if (!caps.viewable(n.op, t)) return "no kernel code for " + std::string(name(t));
  if (n.outputs[0].shape.size() == 0) return "empty";
  for (const Value& v : n.inputs)
    if (v.type().shape.size() == 0) return "an input is empty";
  if (n.op == Op::Pad)
    for (int64_t i : n.attrs.interior)
      if (i != 0) return "interior padding";
  return "";
}
// A value read through shape ops: a load of an array in memory at a map, an iota's count
// at a map, a pad (a concatenate is a chain of them) taking operands[0] where its map is
// in bounds and operands[1] elsewhere, or an elementwise op recomputed over its operands
// read the same way (a producer fused into its reader at the reader's index, as XLA's
// elemental emitter does).
struct Read {
  enum Kind : uint8_t { load, iota, pad, compute } kind = load;
  DType dtype = DType::f32;
  ValueRef src{0, 0};  // load
  Op op = Op::Add;     // compute
  IndexMap map;        // load, iota, pad
  std::vector<std::shared_ptr<const Read>> operands;  // pad, compute
};
using ReadPtr = std::shared_ptr<const Read>;

ReadPtr remap(const ReadPtr& r, const std::function<void(IndexMap&)>& f) {
  auto c = std::make_shared<Read>(*r);
  if (c->kind != Read::compute) f(c->map);
  for (ReadPtr& o : c->operands) o = remap(o, f);
  return c;
}
void sources_of(const Read& r, std::vector<size_t>& out) {
  if (r.kind == Read::load) out.push_back(r.src.node);
  for (const ReadPtr& o : r.operands) sources_of(*o, out);
}
// Ops cheap enough to recompute for a second reader (no transcendentals, no division).
bool cheap(Op op);
// Whether r recomputes an op that is not cheap.
bool costly(const Read& r) {
  if (r.kind == Read::compute && !cheap(r.op)) return true;
  return std::any_of(r.operands.begin(), r.operands.end(), [](const ReadPtr& o) { return costly(*o); });
}
bool cheap(Op op) {
  switch (op) {
    case Op::Add: case Op::Subtract: case Op::Multiply: case Op::Negate: case Op::Abs: case Op::Max: case Op::Min:
    case Op::Broadcast: case Op::Select: case Op::AsType: case Op::Equal: case Op::NotEqual: case Op::Less:
    case Op::LessEqual: case Op::Greater: case Op::GreaterEqual: case Op::Floor: case Op::Ceil: case Op::Round:
    case Op::Sign: case Op::LogicalNot: case Op::LogicalAnd: case Op::LogicalOr: case Op::LogicalXor:
      return true;
    default: return false;
  }
}

// For each axis of v, the axis of n's iteration space it runs along: a broadcast's
// axes, else numpy's right-alignment.
std::vector<int64_t> dims_in(const Node& n, const Value& v) {
  if (n.op == Op::Broadcast) return n.attrs.axes;
  std::vector<int64_t> d;
  int shift = n.outputs[0].shape.rank() - v.type().shape.rank();
  for (int k = 0; k < v.type().shape.rank(); ++k) d.push_back(k + shift);
  return d;
}

// Whether reduction n reduces axes that are neither leading nor trailing ones (or not
// adjacent): its kernel reads the operand transposed, kept axes first.
bool permutes(const Node& n) {
  const std::vector<int64_t>& axes = n.attrs.axes;
  for (size_t k = 1; k < axes.size(); ++k)
    if (axes[k] != axes[k - 1] + 1) return true;
  return axes.front() != 0 && axes.back() != n.inputs[0].type().shape.rank() - 1;
}

// How reduction n reduces its operand, and at which split of its (rows, cols) view.
std::pair<Mode, int> reduction_of(const Node& n) {
  const std::vector<int64_t>& axes = n.attrs.axes;
  int rank = n.inputs[0].type().shape.rank();
  if (static_cast<int>(axes.size()) == rank) return {Mode::all, 0};
  if (permutes(n)) return {Mode::rows, rank - static_cast<int>(axes.size())};
  if (axes.back() == rank - 1) return {Mode::rows, static_cast<int>(axes.front())};
  return {Mode::cols, static_cast<int>(axes.back()) + 1};
}

// Operands read through their shape ops (index maps), not as rows or columns.
using Through = std::function<bool(const Value&)>;

// Whether n reads some operand as a row or a column (not whole, not a scalar).
bool has_broadcast(const Node& n, const Through& through);

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

// Narrows `range` so that each broadcast input of n that can read as a row or a column
// there does; the others (broadcast along middle axes) read through index maps.
void narrow(const Node& n, Range& range, const Through& through) {
  const Shape& out = n.outputs[0].shape;
  for (const Value& v : n.inputs) {
    if (through(v)) continue;
    Shape in = aligned(n, v);
    if (in == out || in.size() == 1) continue;
    auto [col, row] = splits(in, out);
    Range r = !(col & range).empty() ? col & range : row & range;
    if (!r.empty()) range = r;
  }
}

bool has_broadcast(const Node& n, const Through& through) {
  for (const Value& v : n.inputs)
    if (Shape in = aligned(n, v); !through(v) && in != n.outputs[0].shape && in.size() != 1) return true;
  return false;
}

// How the group reads `in` (right-aligned to its shape): whole, a scalar, a row or a
// column of its (rows, cols) view, or (nullopt) through a broadcast index map.
std::optional<KernelSpec::Access> access(const Shape& in, const Group& grp) {
  if (in == grp.shape) return KernelSpec::Access::full;
  if (in.size() == 1) return KernelSpec::Access::scalar;
  Range at{grp.split_lo, grp.split_lo};
  auto [col, row] = splits(in, grp.shape);
  if (!(col & at).empty()) return KernelSpec::Access::col;
  if (!(row & at).empty()) return KernelSpec::Access::row;
  return std::nullopt;
}

}  // namespace

Partition partition(const Graph& g, const std::vector<bool>& kept_out, const KernelCaps& caps) {
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
  // Per shape op read through by the kernels: what it reads. A kernel reads an array
  // in memory through the shape ops' index maps instead of a copy. An opaque one
  // recomputes an expensive producer and has several readers: it is computed once, in
  // its own kernel, and read from memory.
  std::vector<ReadPtr> view(count);
  std::vector<bool> opaque(count);
  auto transparent = [&](const Value& v) { return view[at(v)] && !opaque[at(v)]; };
  auto through = [&](int gi) -> Through {
    return [&, gi](const Value& v) { return transparent(v) && p.group_of[at(v)] != gi; };
  };
  auto sources = [&](const Value& v) {
    std::vector<size_t> src;
    sources_of(*view[at(v)], src);
    return src;
  };
  // Readers per node (the caller counts as one): a producer with one reader moves into
  // that reader's kernel; one with more is recomputed there only when cheap.
  std::vector<int> readers(count);
  for (const auto& n : g.nodes)
    for (const Value& v : n->inputs) ++readers[at(v)];
  for (const Value& v : g.outputs) ++readers[at(v)];
  // How a shape op (or a transposed reduction) reads v: through v's own shape ops, by
  // recomputing v (and its producers, up to `budget` ops) when v is a kernel's per-element
  // value, else from memory. An expensive producer is recomputed only when it and every
  // value between it and the reader have one reader (`shared`: one had more), so that it
  // is still computed once per element.
  std::function<ReadPtr(const Value&, int&, bool)> read_value = [&](const Value& v, int& budget, bool shared) -> ReadPtr {
    size_t u = at(v);
    const Node& n = *g.nodes[u];
    if (view[u] && !opaque[u]) return view[u];
    auto r = std::make_shared<Read>();
    r->dtype = v.type().dtype;
    shared |= readers[u] > 1;
    if (p.group_of[u] >= 0 && !view[u] && !reduced[u] && !is_reduction(n.op) && budget > 0 && (!shared || cheap(n.op))) {
      --budget;
      r->kind = Read::compute;
      r->op = n.op;
      for (const Value& w : n.inputs) {
        ReadPtr o = read_value(w, budget, shared);
        if (w.type().shape != n.outputs[0].shape)
          o = remap(o, [&](IndexMap& m) { map_broadcast(m, n.outputs[0].shape, dims_in(n, w)); });
        r->operands.push_back(std::move(o));
      }
      return r;
    }
    r->src = {u, static_cast<size_t>(v.index)};
    r->map = contiguous(v.type().shape);
    return r;
  };
  auto base = [&](const Value& v) {
    int budget = 16;
    return read_value(v, budget, false);
  };
  // Per reduction of middle axes: its operand, transposed to put the kept axes first.
  std::vector<ReadPtr> permuted(count);
  auto kept_first = [](const Node& n) {
    std::vector<int64_t> perm;
    const std::vector<int64_t>& axes = n.attrs.axes;
    for (int64_t d = 0; d < n.inputs[0].type().shape.rank(); ++d)
      if (std::find(axes.begin(), axes.end(), d) == axes.end()) perm.push_back(d);
    perm.insert(perm.end(), axes.begin(), axes.end());
    return perm;
  };
  auto permute = [&](const Node& n) {
    return remap(base(n.inputs[0]), [&](IndexMap& m) { map_transpose(m, kept_first(n)); });
  };
  auto read_of = [&](const Node& n) -> ReadPtr {
    const Attrs& a = n.attrs;
    const Shape& out = n.outputs[0].shape;
    auto pad = [&](ReadPtr then, ReadPtr fill, const Shape& from, const std::function<void(IndexMap&)>& padded) {
      auto r = std::make_shared<Read>();
      r->kind = Read::pad;
      r->dtype = n.outputs[0].dtype;
      r->operands = {remap(then, padded), std::move(fill)};
      r->map = contiguous(from);
      padded(r->map);
      return r;
    };
    switch (n.op) {
      case Op::Reshape: return remap(base(n.inputs[0]), [&](IndexMap& m) { map_reshape(m, out); });
      case Op::Transpose: return remap(base(n.inputs[0]), [&](IndexMap& m) { map_transpose(m, a.axes); });
      case Op::Slice: return remap(base(n.inputs[0]), [&](IndexMap& m) { map_slice(m, a.starts, a.lengths, a.strides); });
      case Op::Reverse: return remap(base(n.inputs[0]), [&](IndexMap& m) { map_reverse(m, a.axes); });
      case Op::Iota: {
        auto r = std::make_shared<Read>();
        r->kind = Read::iota;
        r->dtype = n.outputs[0].dtype;
        r->map = contiguous(out);
        for (size_t d = 0; d < r->map[0].strides.size(); ++d) r->map[0].strides[d] = static_cast<int64_t>(d) == a.k ? 1 : 0;
        return r;
      }
      case Op::Pad:
        return pad(base(n.inputs[0]), remap(base(n.inputs[1]), [&](IndexMap& m) { map_broadcast(m, out, {}); }),
                   n.inputs[0].type().shape, [&](IndexMap& m) { map_pad(m, a.lo, a.hi); });
      case Op::PutSlice: {  // the update padded to the whole, x where it is out of bounds
        const Shape& from = n.inputs[1].type().shape;
        std::vector<int64_t> lo(a.starts), hi(lo.size());
        for (size_t d = 0; d < hi.size(); ++d) hi[d] = out[static_cast<int>(d)] - lo[d] - from[static_cast<int>(d)];
        return pad(base(n.inputs[1]), base(n.inputs[0]), from, [&](IndexMap& m) { map_pad(m, lo, hi); });
      }
      default: {  // Concatenate: each operand padded to the whole, the first in bounds taken
        size_t axis = static_cast<size_t>(a.axes[0]);
        int64_t total = out[static_cast<int>(axis)], end = total;
        ReadPtr acc;
        for (size_t k = n.inputs.size(); k-- > 0;) {
          const Shape& from = n.inputs[k].type().shape;
          std::vector<int64_t> lo(static_cast<size_t>(out.rank())), hi(lo.size());
          lo[axis] = end - from[static_cast<int>(axis)];
          hi[axis] = total - end;
          end = lo[axis];
          auto padded = [&](IndexMap& m) { map_pad(m, lo, hi); };
          acc = acc ? pad(base(n.inputs[k]), acc, from, padded) : remap(base(n.inputs[k]), padded);
        }
        return acc;
      }
    }
  };
  // Whether node i, run by group `reader`, reads v through its shape ops (a view that
  // i itself is, or that another group computes, is read from the arrays beneath it).
  auto read_through = [&](size_t i, const Value& v, int reader) {
    return transparent(v) && reader >= 0 && (view[i] || p.group_of[at(v)] != reader);
  };
  // The nodes whose arrays node i reads from memory when it reads v.
  auto reads = [&](size_t i, const Value& v, int reader) {
    std::vector<size_t> src;
    if (permuted[i]) sources_of(*permuted[i], src);
    else if (view[i]) sources_of(*view[i], src);
    else if (read_through(i, v, reader)) src = sources(v);
    else src.push_back(at(v));
    return src;
  };
  struct Fit {
    Range range;
    bool reduced;
  };
  // Whether n can join group gi (its broadcast inputs narrowing `range`, the splits
  // allowed so far), and as a per-element or a per-row value.
  auto fit = [&](size_t i, int gi, Range range) -> std::optional<Fit> {
    if (!open(gi)) return std::nullopt;
    const Node& n = *g.nodes[i];
    const Group& grp = group(gi);
    Mode mode = grp.spec.mode;
    Through thru = through(gi);
    // An array read through shape ops is in memory: not computed by this kernel.
    for (const Value& v : n.inputs)
      if (transparent(v) && (view[i] || thru(v)))
        for (size_t src : sources(v))
          if (p.group_of[src] == gi) return std::nullopt;
    if (view[i] || permuted[i]) return std::nullopt;  // a kernel of its own, which its readers may join
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
      bool broadcasts = has_broadcast(n, thru);
      for (const Value& v : n.inputs)
        if (member(v, gi) && reduced[at(v)] &&
            (mode != Mode::rows || (splits(aligned(n, v), shape).second & Range{grp.split_lo, grp.split_lo}).empty()))
          return std::nullopt;
      if (mode == Mode::all && broadcasts) return std::nullopt;
      Range r = range & range_of(gi);
      if (shape.rank() >= 2 && r.empty() && (mode != Mode::all || broadcasts)) return std::nullopt;
      narrow(n, r, thru);
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
      if (thru(v)) return std::nullopt;
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
    std::string why = is_view_op(n.op) ? unviewable(n, caps) : unfusable(n, caps);
    if (i < kept_out.size() && kept_out[i]) why = "read as a strided view by oneDNN";
    if (why.empty() && n.op == Op::Reshape && !view[at(n.inputs[0])]) {
      // A reshape of a kernel's per-element value that only it reads is a view (its
      // readers compute that value); of anything else, the same buffer.
      size_t u = at(n.inputs[0]);
      if (p.group_of[u] < 0 || reduced[u] || is_reduction(g.nodes[u]->op) || readers[u] != 1)
        why = "a reshape of an array in memory shares its buffer";
    }
    if (why.empty() && is_view_op(n.op)) {
      view[i] = read_of(n);
      opaque[i] = readers[i] > 1 && costly(*view[i]);
    }
    if (why.empty() && is_reduction(n.op) && permutes(n)) permuted[i] = permute(n);
    int target = -1;
    Fit at_target{{0, -1}, false};
    if (why.empty()) {
      Shape shape = is_reduction(n.op) ? n.inputs[0].type().shape : n.outputs[0].shape;
      if (permuted[i]) {
        Shape operand = shape;
        std::vector<int64_t> perm = kept_first(n);
        for (size_t d = 0; d < perm.size(); ++d) shape[static_cast<int>(d)] = operand[static_cast<int>(perm[d])];
      }
      Range start{1, shape.rank() - 1};  // empty below rank 2: then only scalars broadcast
      // Join the open groups n reads from (merging them: none has a reader outside yet),
      // else the latest open group it fits (siblings share a loop), else a new one.
      for (const Value& v : n.inputs) {
        int gi = p.group_of[at(v)];
        if (gi < 0 || gi == target) continue;
        std::optional<Fit> f = fit(i, gi, target < 0 ? start : at_target.range);
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
        if (std::optional<Fit> f = fit(i, gi, start)) target = gi, at_target = *f;
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
          if (!view[i]) narrow(n, at_target.range, through(-1));
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
      grp.broadcasts |= !at_target.reduced && !view[i] && has_broadcast(n, through(target));
      grp.nodes.push_back(i);
      reduced[i] = at_target.reduced;
      p.group_of[i] = target;
      if (grp.nodes.size() >= kMaxGroupNodes) closed[static_cast<size_t>(target)] = true;
    } else {
      p.refusal[i] = why;
    }
    // Reading another group's value closes it (through shape ops: the arrays they read).
    for (const Value& v : n.inputs)
      for (size_t src : reads(i, v, target))
        if (int gi = p.group_of[src]; gi >= 0 && gi != target) closed[static_cast<size_t>(gi)] = true;
  }
  // Each group's kernel: inputs, straight-line code, and the values that leave it.
  std::vector<bool> escapes(count);
  for (size_t i = 0; i < count; ++i) {
    int reader = p.group_of[i];
    for (const Value& v : g.nodes[i]->inputs)
      for (size_t src : reads(i, v, reader))
        if (p.group_of[src] != reader || reader < 0) escapes[src] = true;
  }
  for (const Value& v : g.outputs) escapes[at(v)] = true;
  // Members that nothing needs leave their kernels (their readers recompute them or read
  // through them): a member stays when its value leaves the kernel or a member that
  // stays reads it. A kernel left empty is dropped.
  std::vector<bool> live(count);
  for (size_t i = count; i-- > 0;) {
    int gi = p.group_of[i];
    if (gi < 0 || !(live[i] = live[i] || escapes[i])) continue;
    for (const Value& v : g.nodes[i]->inputs)
      if (p.group_of[at(v)] == gi) live[at(v)] = true;
  }
  for (Group& grp : p.groups)
    std::erase_if(grp.nodes, [&](size_t i) {
      if (live[i]) return false;
      p.group_of[i] = -1;
      p.refusal[i] = view[i] ? "every reader reads through it" : "recomputed inside its readers' kernels";
      return true;
    });
  for (Group& grp : p.groups) {
    if (grp.nodes.empty()) continue;
    int k = grp.spec.mode == Mode::all ? 0 : grp.split_lo;  // the (rows, cols) view: dims < k and dims >= k
    grp.rows = grp.cols = 1;
    for (int d = 0; d < grp.shape.rank(); ++d) (d < k ? grp.rows : grp.cols) *= grp.shape[d];
    grp.spec.two_d = grp.spec.mode == Mode::rows || grp.spec.mode == Mode::cols;
    grp.spec.scratch = grp.spec.mode == Mode::rows && grp.cols <= kScratchCols;
    std::unordered_map<size_t, int> instr_of;  // node -> its instruction
    std::map<std::tuple<size_t, size_t, KernelSpec::Access, std::string>, int> input_instr;  // (node, output, access, map) -> its load
    auto load = [&](ValueRef src, DType dtype, KernelSpec::Access how, IndexMap map) {
      std::string key = map.empty() ? "" : map_key(map);
      auto [it, fresh] = input_instr.emplace(std::tuple{src.node, src.index, how, key}, 0);
      if (fresh) {
        grp.inputs.push_back(src);
        grp.spec.inputs.push_back({dtype, how});
        grp.spec.two_d |= how == KernelSpec::Access::row || how == KernelSpec::Access::col;
        int m = -1;
        if (!map.empty()) m = static_cast<int>(grp.spec.maps.size()), grp.spec.maps.push_back(std::move(map));
        grp.spec.code.push_back({Op::Parameter, dtype, {}, static_cast<int>(grp.inputs.size() - 1), false, m});
        it->second = static_cast<int>(grp.spec.code.size() - 1);
      }
      return it->second;
    };
    // A read through shape ops as instructions: map loads, iotas, pads.
    std::function<int(const Read&)> emit_read = [&](const Read& r) -> int {
      IndexMap m = simplified(r.map);
      if (r.kind == Read::load)
        return load(r.src, r.dtype, KernelSpec::Access::full, is_identity(m) ? IndexMap{} : std::move(m));
      std::vector<int> operands;
      for (const ReadPtr& o : r.operands) operands.push_back(emit_read(*o));
      if (r.kind == Read::compute) {
        grp.spec.code.push_back({r.op, r.dtype, std::move(operands)});
      } else {
        grp.spec.maps.push_back(std::move(m));
        grp.spec.code.push_back({r.kind == Read::pad ? Op::Pad : Op::Iota, r.dtype, std::move(operands), -1, false,
                                 static_cast<int>(grp.spec.maps.size() - 1)});
      }
      return static_cast<int>(grp.spec.code.size() - 1);
    };
    for (size_t i : grp.nodes) {
      const Node& n = *g.nodes[i];
      KernelSpec::Instr ins{n.op, n.outputs[0].dtype, {}, -1, reduced[i]};
      if (view[i]) {  // its own instruction (a copy), so that it can be an output
        ins.op = Op::Broadcast;
        ins.operands.push_back(emit_read(*view[i]));
      }
      if (permuted[i]) ins.operands.push_back(emit_read(*permuted[i]));
      for (const Value& v : view[i] || permuted[i] ? std::vector<Value>{} : n.inputs) {
        size_t src = at(v);
        if (auto it = instr_of.find(src); it != instr_of.end()) {
          ins.operands.push_back(it->second);
          continue;
        }
        if (transparent(v)) {
          ReadPtr r = view[src];
          if (v.type().shape != grp.shape) r = remap(r, [&](IndexMap& m) { map_broadcast(m, grp.shape, dims_in(n, v)); });
          ins.operands.push_back(emit_read(*r));
          continue;
        }
        std::optional<KernelSpec::Access> how = !reduced[i] || is_reduction(n.op) ? access(aligned(n, v), grp)
                                                : v.type().shape.size() == 1  ? KernelSpec::Access::scalar
                                                                              : KernelSpec::Access::row;
        IndexMap map;
        if (!how) {
          map = contiguous(v.type().shape);
          map_broadcast(map, grp.shape, dims_in(n, v));
          map = simplified(std::move(map));
        }
        ins.operands.push_back(load({src, static_cast<size_t>(v.index)}, v.type().dtype, how.value_or(KernelSpec::Access::full), std::move(map)));
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
  // Drop the empty groups (merged into others, or with nothing live).
  std::vector<Group> kept;
  std::vector<int> renumber(p.groups.size(), -1);
  for (size_t k = 0; k < p.groups.size(); ++k)
    if (!p.groups[k].nodes.empty()) renumber[k] = static_cast<int>(kept.size()), kept.push_back(std::move(p.groups[k]));
  p.groups = std::move(kept);
  for (int& gi : p.group_of)
    if (gi >= 0) gi = renumber[static_cast<size_t>(gi)];
  return p;
}

Schedule::Schedule(const Graph& g) {
  size_t count = g.nodes.size();
  std::unordered_map<const Node*, size_t> slot;
  for (size_t i = 0; i < count; ++i) slot[g.nodes[i].get()] = i;
  auto ref = [&](const Value& v) { return ValueRef{slot.at(v.node.get()), static_cast<size_t>(v.index)}; };
  for (const auto& n : g.nodes) {
    std::vector<ValueRef> refs;
    for (const Value& v : n->inputs) refs.push_back(ref(v));
    inputs.push_back(std::move(refs));
  }
  for (const Value& v : g.outputs) outputs.push_back(ref(v));
  first.assign(count + 1, 0);
  for (size_t i = 0; i < count; ++i) first[i + 1] = first[i] + g.nodes[i]->outputs.size();
}

void Schedule::plan(const Partition& p) {
  size_t count = inputs.size();
  needed.assign(count, false);
  for (const ValueRef& r : outputs) needed[r.node] = true;
  for (const Group& grp : p.groups)
    for (const ValueRef& r : grp.inputs) needed[r.node] = true;
  for (size_t i = count; i-- > 0;)
    if (needed[i] && p.group_of[i] < 0)
      for (const ValueRef& r : inputs[i]) needed[r.node] = true;
  last_use.assign(count, 0);
  for (size_t i = 0; i < count; ++i)
    if (p.group_of[i] < 0 && needed[i])
      for (const ValueRef& r : inputs[i]) last_use[r.node] = std::max(last_use[r.node], i);
  for (const Group& grp : p.groups)
    for (const ValueRef& r : grp.inputs) last_use[r.node] = std::max(last_use[r.node], grp.nodes.back());
  for (const ValueRef& r : outputs) last_use[r.node] = count;
}

std::vector<Operand> Schedule::operands(const Graph& g, size_t node, const std::vector<BufferPtr>& values) const {
  std::vector<Operand> ops;
  ops.reserve(inputs[node].size());
  for (const ValueRef& r : inputs[node]) ops.push_back({g.nodes[r.node]->outputs[r.index], values[first[r.node] + r.index]});
  return ops;
}

void Schedule::release(std::span<const ValueRef> reads, size_t step, std::vector<BufferPtr>& values) const {
  for (const ValueRef& r : reads)
    if (last_use[r.node] == step)
      for (size_t k = first[r.node]; k < first[r.node + 1]; ++k) values[k].reset();
}

std::vector<BufferPtr> Schedule::results(const std::vector<BufferPtr>& values) const {
  std::vector<BufferPtr> out;
  out.reserve(outputs.size());
  for (const ValueRef& r : outputs) out.push_back(values[first[r.node] + r.index]);
  return out;
}

Graph single_node_graph(const Node& node, std::span<const TensorType> inputs) {
  Graph g;
  auto call = std::make_shared<Node>(node);
  call->inputs.clear();
  for (size_t k = 0; k < inputs.size(); ++k) {
    auto p = std::make_shared<Node>();
    p->op = Op::Parameter;
    p->param_index = static_cast<int>(k);
    p->outputs = {inputs[k]};
    g.params.push_back(p);
    call->inputs.push_back(Value{p, 0});
  }
  for (size_t k = 0; k < node.outputs.size(); ++k) g.outputs.push_back(Value{call, static_cast<int>(k)});
  g.finalize();
  return g;
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

}  // namespace nx::fusion
