// The model table (Axon.Display): a trace of init records each layer application's shapes
// and parameters without computing anything.
#include <algorithm>
#include <iomanip>
#include <ostream>
#include <sstream>

#include "nn/model_impl.hpp"
#include "nx/jit.hpp"
#include "nx/ops.hpp"
#include "nx/random.hpp"

namespace nx::nn {
namespace {

std::string grouped(int64_t n) {  // 1234567 -> "1,234,567"
  std::string s = std::to_string(n), out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i && (s.size() - i) % 3 == 0) out += ',';
    out += s[i];
  }
  return out;
}

std::string bytes_str(int64_t b) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(2);
  if (b >= (int64_t(1) << 30)) os << double(b) / double(int64_t(1) << 30) << " GiB";
  else if (b >= (1 << 20)) os << double(b) / double(1 << 20) << " MiB";
  else if (b >= (1 << 10)) os << double(b) / double(1 << 10) << " KiB";
  else return std::to_string(b) + " B";
  return os.str();
}

std::string shape_str(const Shape& s, bool unknown_batch) {
  std::vector<int64_t> d = s.to_vector();
  if (unknown_batch && !d.empty()) d[0] = -1;
  return detail::dims_str(d);
}

std::string table(const Model& model, const std::vector<Tensor>& xs, bool unknown_batch) {
  const detail::ModelImpl& m = model.impl();
  std::vector<detail::NodeRecord> records;
  detail::RunContext ctx;
  ctx.init = true;
  ctx.policy = m.policy;
  ctx.records = &records;
  // Traced only: the graph is built (shapes inferred) and dropped, nothing runs.
  auto traced = nx::jit([&](const Tensor& key, const std::vector<Tensor>& in) {
    ctx.key = key;
    ctx.params.clear();
    ctx.state.clear();
    ctx.created = 0;
    return detail::run(m, ctx, in);
  });
  (void)traced.graph(random::key(0), xs);

  std::vector<std::array<std::string, 5>> rows;
  rows.push_back({"Layer", "Inputs", "Output shape", "Options", "Parameters"});
  std::vector<bool> seen_layer(m.nodes.size(), false);
  std::map<std::string, size_t> first_use;
  int64_t total = 0, total_bytes = 0, state = 0, state_bytes = 0;
  for (size_t i = 0; i < m.nodes.size(); ++i) {
    const LayerSpec& spec = m.nodes[i].layer();
    const std::string& name = m.layer_of[i];
    std::string inputs;
    for (size_t k = 0; k < m.args[i].size(); ++k)
      inputs += (k ? ", " : "") + m.layer_of[m.args[i][k]] + " " + shape_str(records[i].input_shapes[k], unknown_batch);
    std::string params;
    if (spec.op == "input") {
      inputs = "";
    } else if (first_use.count(name)) {
      params = "shared with the first " + name;
    } else {
      first_use[name] = i;
      int64_t count = 0;
      auto list = [&](const ParamTree& tree, int64_t& n, int64_t& bytes, const char* tag) {
        auto it = tree.find(name);
        if (it == tree.end()) return;
        for (const auto& [pname, t] : it->second) {
          params += (params.empty() ? "" : ", ") + std::string(tag) + pname + " " + std::string(nx::name(t.dtype())) +
                    t.shape().str();
          n += t.size();
          bytes += t.size() * item_size(t.dtype());
          if (tag[0] == '\0') count += t.size();
        }
      };
      list(ctx.params, total, total_bytes, "");
      list(ctx.state, state, state_bytes, "state ");
      if (count) params += ": " + grouped(count);
    }
    std::string label = spec.op == "input" ? name + " (input, " + std::string(nx::name(spec.input_dtype)) + ")"
                                           : name + " (" + spec.op + ")";
    rows.push_back({label, inputs, shape_str(records[i].output_shape, unknown_batch), spec.options, params});
  }
  std::array<size_t, 5> width{};
  for (const auto& r : rows)
    for (size_t c = 0; c < 5; ++c) width[c] = std::max(width[c], r[c].size());
  std::ostringstream os;
  auto rule = [&] {
    for (size_t c = 0; c < 5; ++c) os << '+' << std::string(width[c] + 2, '-');
    os << "+\n";
  };
  rule();
  for (size_t r = 0; r < rows.size(); ++r) {
    for (size_t c = 0; c < 5; ++c) os << "| " << std::left << std::setw(int(width[c])) << rows[r][c] << ' ';
    os << "|\n";
    if (r == 0) rule();
  }
  rule();
  os << "Total: " << grouped(total) << " parameters (" << bytes_str(total_bytes) << ")";
  if (state) os << ", state: " << grouped(state) << " values (" << bytes_str(state_bytes) << ")";
  os << '\n';
  return os.str();
}

}  // namespace

std::ostream& operator<<(std::ostream& os, const Model& model) {
  std::vector<Tensor> xs;
  bool unknown_batch = !model.inputs().empty();
  for (const InputInfo& info : model.inputs()) {
    std::vector<int64_t> d = info.dims;
    unknown_batch &= !d.empty() && d[0] < 0;
    for (int64_t& x : d) x = x < 0 ? 1 : x;
    xs.push_back(zeros(Shape(d), info.dtype));
  }
  return os << table(model, xs, unknown_batch);
}

std::string summary(const Model& model, const Inputs& example, Where where) {
  return table(model, example.ordered(model, where), false);
}

}  // namespace nx::nn
