// Every nx::nn layer against PyTorch (tests/golden/gen_nn.py writes tests/golden/nn/*.npz).
// For each case the same layer is built as a one-layer model, its Variables are replaced
// by PyTorch's parameters (and running statistics) through nx::io::from_state_dict, so
// the parameter names, shapes and layouts must match exactly; then
//   - nn::predict (jitted) and nn::apply (eager) give PyTorch's output (in training mode:
//     nn::apply's output and the updated running statistics),
//   - nx::grad of sum(output * cotangent) with respect to the Variables and the inputs
//     gives PyTorch's gradients,
//   - the model table shows the output shape,
//   - an input of the wrong rank raises nx::ShapeError naming the layer.
// The expected values are PyTorch's float64 results on f32 inputs; nx computes in f32.
// Tolerance: |got - want| <= 1e-4 * |want| + 1e-5 * max(1, max |want|), elementwise (the
// generator checks PyTorch's own f32 results stay within a quarter of it).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <nx/nn.hpp>
#include <nx/nx.hpp>

#include "test_support.hpp"

namespace nn = nx::nn;
using nx_test::expect_error;

namespace {

// Keep in sync with RTOL / ATOL in tests/golden/gen_nn.py.
constexpr double kRtol = 1e-4, kAtol = 1e-5;

struct LayerCase {
  std::string name;  // tests/golden/nn/<name>.npz
  std::function<nn::Layer()> make;
  bool training = false;
  int bad_rank = -1;  // an input rank the layer refuses with a ShapeError (-1: none tested)
};

// The errors of one comparison: max |got - want|, that over max(1, max |want|), and the
// largest fraction of the tolerance used.
struct Errors {
  double abs = 0, scaled = 0, used = 0;
  void merge(const Errors& o) {
    abs = std::max(abs, o.abs);
    scaled = std::max(scaled, o.scaled);
    used = std::max(used, o.used);
  }
};

Errors compare(const std::string& what, const nx::Tensor& got, const nx::Tensor& want) {
  SCOPED_TRACE(what);
  Errors e;
  EXPECT_EQ(got.shape(), want.shape()) << what;
  if (got.shape() != want.shape()) return e;
  std::vector<double> g = got.to_vector<double>(), w = want.to_vector<double>();
  double scale = 1;
  for (double v : w) scale = std::max(scale, std::fabs(v));
  int reported = 0;
  for (size_t i = 0; i < w.size(); ++i) {
    const double err = std::fabs(g[i] - w[i]), tol = kRtol * std::fabs(w[i]) + kAtol * scale;
    e.abs = std::max(e.abs, err);
    e.scaled = std::max(e.scaled, err / scale);
    e.used = std::max(e.used, err / tol);
    if (!(err <= tol) && reported++ < 5) ADD_FAILURE() << what << " element " << i << ": got " << g[i] << ", want " << w[i];
  }
  return e;
}

std::string golden_path(const std::string& name) { return std::string(NX_TEST_DATA_DIR) + "/nn/" + name + ".npz"; }

std::vector<int64_t> dims_of(const nx::Shape& s) { return s.to_vector(); }

// "x0", "x1", ...: the inputs' names in the golden files and the models.
std::string input_name(int i) {
  std::string name = "x";
  name += std::to_string(i);
  return name;
}

// "(?, 4, 3)": the model table's form of a shape with an unknown batch.
std::string table_dims(const nx::Shape& s) {
  std::string out = "(";
  for (int d = 0; d < s.rank(); ++d) out += (d ? ", " : "") + (d == 0 ? std::string("?") : std::to_string(s[d]));
  return out + ")";
}

// The "Output shape" column of `layer`'s row in the model table.
std::string table_output(const nn::Model& model, const std::string& label) {
  std::ostringstream os;
  os << model;
  std::istringstream lines(os.str());
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("| " + label + " ", 0) != 0) continue;
    std::vector<std::string> cols;
    std::string col;
    std::istringstream cells(line);
    while (std::getline(cells, col, '|')) cols.push_back(col);
    if (cols.size() < 4) break;
    std::string out = cols[3];
    out.erase(0, out.find_first_not_of(' '));
    out.erase(out.find_last_not_of(' ') + 1);
    return out;
  }
  return "no row " + label + " in:\n" + os.str();
}

std::vector<LayerCase> all_cases() {
  using P = std::vector<std::pair<int64_t, int64_t>>;
  std::vector<LayerCase> c = {
      // dense
      {"dense", [] { return nn::dense(4); }, false, 0},
      {"dense_3d_nobias", [] { return nn::dense(4, {.use_bias = false}); }, false, 0},
      {"dense_silu", [] { return nn::dense(6, {.activation = "silu"}); }, false, 0},
      // convolution
      {"conv1d", [] { return nn::conv(4, {3}, {.strides = {2}, .padding = P{{1, 2}}}); }, false, 2},
      {"conv1d_same_dilated", [] { return nn::conv(2, {4}, {.padding = nn::same, .dilation = {2}}); }, false, 4},
      {"conv2d_groups",
       [] { return nn::conv(6, {3, 2}, {.strides = {2, 1}, .padding = P{{1, 1}, {0, 1}}, .dilation = {1, 2}, .groups = 2}); },
       false, 3},
      {"conv2d_same_tanh",
       [] { return nn::conv(4, {2, 3}, {.padding = nn::same, .dilation = {1, 2}, .activation = "tanh"}); }, false, 3},
      {"conv3d",
       [] { return nn::conv(3, {2, 3, 2}, {.strides = {1, 2, 1}, .padding = P{{1, 1}, {1, 1}, {0, 0}}, .dilation = {2, 1, 1}}); },
       false, 4},
      {"conv2d_nobias", [] { return nn::conv(3, {3, 3}, {.use_bias = false}); }, false, 3},
      {"depthwise_conv2d", [] { return nn::depthwise_conv({3, 3}, 2, {.strides = {2, 2}, .padding = P{{1, 1}, {1, 1}}}); },
       false, 3},
      {"depthwise_conv2d_dilated", [] { return nn::depthwise_conv({3, 2}, 3, {.dilation = {2, 3}}); }, false, 3},
      {"depthwise_conv1d_same", [] { return nn::depthwise_conv({3}, 1, {.padding = nn::same}); }, false, 4},
      {"separable_conv2d", [] { return nn::separable_conv(5, {3, 3}, {.strides = {2, 1}, .padding = P{{1, 1}, {1, 1}}}); },
       false, 3},
      {"separable_conv1d", [] { return nn::separable_conv(3, {3}); }, false, 2},
      {"conv_transpose1d", [] { return nn::conv_transpose(3, {3}, {.strides = {2}, .padding = {1}, .output_padding = {1}}); },
       false, 2},
      {"conv_transpose2d_groups",
       [] {
         return nn::conv_transpose(6, {3, 2}, {.strides = {2, 3}, .padding = {1, 0}, .output_padding = {1, 2},
                                               .dilation = {1, 2}, .groups = 2});
       },
       false, 3},
      {"conv_transpose3d",
       [] { return nn::conv_transpose(2, {2, 2, 3}, {.strides = {2, 1, 2}, .padding = {0, 1, 1}, .output_padding = {1, 0, 0}}); },
       false, 4},
      {"conv_transpose1d_dilated_outpad",
       [] { return nn::conv_transpose(3, {3}, {.padding = {1}, .output_padding = {1}, .dilation = {2}}); }, false, 2},
      {"conv_transpose2d_wide_padding", [] { return nn::conv_transpose(2, {2, 3}, {.strides = {3, 2}, .padding = {2, 3}}); },
       false, 3},
      {"conv_transpose2d_plain", [] { return nn::conv_transpose(2, {2, 2}, {.use_bias = false}); }, false, 3},
      // pooling
      {"max_pool1d_dilated", [] { return nn::max_pool({3}, {.strides = {2}, .padding = P{{1, 1}}, .dilation = {2}}); }, false, 2},
      {"max_pool2d", [] { return nn::max_pool({3, 2}, {.padding = P{{1, 1}, {0, 0}}}); }, false, 3},
      {"max_pool3d", [] { return nn::max_pool({2, 2, 2}, {.strides = {2, 1, 2}}); }, false, 4},
      {"avg_pool2d_pad", [] { return nn::avg_pool({3, 3}, {.strides = {2, 2}, .padding = P{{1, 1}, {1, 1}}}); }, false, 3},
      {"avg_pool2d_pad_exclude",
       [] { return nn::avg_pool({3, 3}, {.strides = {2, 2}, .padding = P{{1, 1}, {1, 1}}, .count_include_pad = false}); },
       false, 3},
      {"avg_pool1d", [] { return nn::avg_pool({4}, {.strides = {3}}); }, false, 2},
      {"avg_pool3d_exclude",
       [] {
         return nn::avg_pool({3, 2, 3}, {.strides = {2, 2, 1}, .padding = P{{1, 1}, {1, 1}, {1, 1}}, .count_include_pad = false});
       },
       false, 4},
      {"global_avg_pool", [] { return nn::global_avg_pool(); }, false, 2},
      {"global_max_pool_keep", [] { return nn::global_max_pool(true); }, false, 2},
      {"global_avg_pool1d_keep", [] { return nn::global_avg_pool(true); }, false, 2},
      {"adaptive_avg_pool2d_divisible", [] { return nn::adaptive_avg_pool({4, 3}); }, false, 3},
      {"adaptive_avg_pool2d_uneven", [] { return nn::adaptive_avg_pool({3, 2}); }, false, 3},
      {"adaptive_avg_pool2d_up", [] { return nn::adaptive_avg_pool({5, 5}); }, false, 3},
      {"adaptive_avg_pool1d_uneven", [] { return nn::adaptive_avg_pool({4}); }, false, 2},
      {"adaptive_max_pool2d_divisible", [] { return nn::adaptive_max_pool({2, 3}); }, false, 3},
      {"adaptive_max_pool2d_uneven", [] { return nn::adaptive_max_pool({3, 2}); }, false, 3},
      {"adaptive_max_pool2d_up", [] { return nn::adaptive_max_pool({4, 3}); }, false, 3},
      {"adaptive_max_pool3d_uneven", [] { return nn::adaptive_max_pool({2, 3, 3}); }, false, 4},
      // normalization
      {"batch_norm2d_train", [] { return nn::batch_norm(); }, true, 1},
      {"batch_norm1d_train", [] { return nn::batch_norm({.momentum = 0.3}); }, true, 1},
      {"batch_norm1d_seq_infer", [] { return nn::batch_norm(); }, false, 1},
      {"layer_norm", [] { return nn::layer_norm(); }, false, 0},
      {"layer_norm_2axes", [] { return nn::layer_norm({.axes = 2, .epsilon = 1e-3}); }, false, 1},
      {"group_norm2d", [] { return nn::group_norm(3); }, false, 1},
      {"group_norm1d", [] { return nn::group_norm(2); }, false, 1},
      // embedding
      {"embedding", [] { return nn::embedding(10, 4); }, false, -1},
      // recurrent
      {"lstm_seq", [] { return nn::lstm(6); }, false, 2},
      {"lstm_last", [] { return nn::lstm(6, {.return_sequences = false}); }, false, 2},
      {"lstm_reverse_seq", [] { return nn::lstm(6, {.reverse = true}); }, false, 4},
      {"lstm_reverse_last_nobias",
       [] { return nn::lstm(6, {.return_sequences = false, .reverse = true, .use_bias = false}); }, false, 2},
      {"gru_seq", [] { return nn::gru(6); }, false, 2},
      {"gru_last", [] { return nn::gru(6, {.return_sequences = false}); }, false, 2},
      {"gru_reverse_seq", [] { return nn::gru(6, {.reverse = true}); }, false, 4},
      {"gru_reverse_last_nobias",
       [] { return nn::gru(6, {.return_sequences = false, .reverse = true, .use_bias = false}); }, false, 2},
      {"lstm_long_last", [] { return nn::lstm(4, {.return_sequences = false}); }, false, -1},
      {"gru_long_seq", [] { return nn::gru(4); }, false, -1},
      {"lstm_one_step", [] { return nn::lstm(4); }, false, -1},
      {"gru_one_step_last", [] { return nn::gru(4, {.return_sequences = false}); }, false, -1},
      // attention
      {"mha_self", [] { return nn::multi_head_attention(2); }, false, 2},
      {"mha_cross", [] { return nn::multi_head_attention(4); }, false, -1},
      {"mha_causal", [] { return nn::multi_head_attention(4, {.causal = true}); }, false, 4},
      {"mha_cross_causal_nobias", [] { return nn::multi_head_attention(3, {.causal = true, .use_bias = false}); }, false, -1},
      // activations (any rank)
      {"act_relu", [] { return nn::relu(); }},
      {"act_relu6", [] { return nn::relu6(); }},
      {"act_leaky_relu", [] { return nn::leaky_relu(0.2); }},
      {"act_elu", [] { return nn::elu(0.7); }},
      {"act_selu", [] { return nn::selu(); }},
      {"act_gelu", [] { return nn::gelu(); }},
      {"act_gelu_tanh", [] { return nn::gelu(true); }},
      {"act_silu", [] { return nn::silu(); }},
      {"act_mish", [] { return nn::mish(); }},
      {"act_softplus", [] { return nn::softplus(); }},
      {"act_sigmoid", [] { return nn::sigmoid(); }},
      {"act_hard_sigmoid", [] { return nn::hard_sigmoid(); }},
      {"act_tanh", [] { return nn::tanh(); }},
      {"act_softmax", [] { return nn::softmax(); }},
      {"act_softmax_axis1", [] { return nn::softmax(1); }},
      {"act_log_softmax", [] { return nn::log_softmax(); }},
      {"act_linear", [] { return nn::activation("linear"); }},
  };
  return c;
}

void PrintTo(const LayerCase& c, std::ostream* os) { *os << c.name; }

class NnLayerGolden : public ::testing::TestWithParam<LayerCase> {};

TEST_P(NnLayerGolden, MatchesPyTorch) {
  const LayerCase& c = GetParam();
  nx::io::TensorDict g = nx::io::load_npz(golden_path(c.name));
  std::vector<nx::Tensor> xs;
  std::vector<nn::Node> nodes;
  for (int i = 0; g.count(input_name(i)); ++i) {
    const nx::Tensor& x = g.at(input_name(i));
    std::vector<int64_t> dims = dims_of(x.shape());
    dims[0] = -1;
    nodes.push_back(nn::input(input_name(i), dims, x.dtype()));
    xs.push_back(x);
  }
  ASSERT_FALSE(xs.empty());
  const nn::Layer layer = c.make();
  const std::string op = layer.spec().op;
  nn::Model model(nodes.size() == 1 ? layer(nodes[0]) : layer(nodes));
  const std::string name = model.layer_names().at(0);

  // PyTorch's parameters and running statistics, under our names.
  nn::Variables vars = nn::init(model, nx::random::key(0), xs);
  nx::io::TensorDict params, state;
  for (const auto& [k, t] : g) {
    if (k.rfind("param.", 0) == 0) params[name + "." + k.substr(6)] = t;
    if (k.rfind("state.", 0) == 0) state[name + "." + k.substr(6)] = t;
  }
  vars.params = nx::io::from_state_dict(vars.params, params);
  vars.state = nx::io::from_state_dict(vars.state, state);

  const nx::Tensor& want = g.at("y");
  Errors e;
  nn::Forward f = nn::apply(model, vars, xs, {.training = c.training});
  e.merge(compare("apply output", f.outputs[0], want));
  if (c.training) {
    for (const auto& [k, t] : g)
      if (k.rfind("state_out.", 0) == 0) e.merge(compare(k, f.state.at(name).at(k.substr(10)), t));
  } else {
    e.merge(compare("predict output", nn::predict(model, vars, xs), want));
  }

  // Gradients of sum(output * cotangent).
  const nx::Tensor ct = g.at("ct");
  const bool training = c.training;
  auto loss = [&model, ct, training](const nn::Variables& v, const std::vector<nx::Tensor>& in) {
    return nx::sum(nn::apply(model, v, in, {.training = training}).outputs[0] * ct);
  };
  nn::Variables gv;
  std::vector<nx::Tensor> gx;
  if (nx::is_float(xs[0].dtype())) std::tie(gv, gx) = nx::grad<0, 1>(loss)(vars, xs);
  else gv = nx::grad<0>(loss)(vars, xs);
  int compared = 0;
  for (const auto& [k, t] : g) {
    if (k.rfind("grad.param.", 0) == 0) {
      const std::string p = k.substr(11);
      ASSERT_TRUE(gv.params.count(name) && gv.params.at(name).count(p)) << "no gradient for " << p;
      e.merge(compare("gradient of " + p, gv.params.at(name).at(p), t));
      ++compared;
    } else if (k.rfind("grad.x", 0) == 0) {
      const size_t i = std::stoul(k.substr(6));
      ASSERT_LT(i, gx.size());
      e.merge(compare("gradient of input " + std::to_string(i), gx[i], t));
      ++compared;
    }
  }
  EXPECT_EQ(compared, static_cast<int>(params.size() + gx.size()));

  // The model table's output shape.
  EXPECT_EQ(table_output(model, name + " (" + op + ")"), table_dims(want.shape()));

  // A wrong input rank names the layer.
  if (c.bad_rank >= 0) {
    std::vector<int64_t> dims = dims_of(xs[0].shape());
    dims.resize(static_cast<size_t>(c.bad_rank), 3);
    std::vector<int64_t> declared = dims;
    if (!declared.empty()) declared[0] = -1;
    nn::Model bad(nn::input("x0", declared) | c.make());
    expect_error<nx::ShapeError>([&] { nn::init(bad, nx::random::key(0), nx::zeros(nx::Shape(dims))); },
                                 "[" + op + "_0 (" + op + ")]");
  }
  std::printf("[ nn golden ] %-30s max |err| %.2e, max |err| / scale %.2e, %.4f of the tolerance\n", c.name.c_str(),
              e.abs, e.scaled, e.used);
}

INSTANTIATE_TEST_SUITE_P(NnLayer, NnLayerGolden, ::testing::ValuesIn(all_cases()),
                         [](const ::testing::TestParamInfo<LayerCase>& info) { return info.param.name; });

// ---- beyond the golden values ----

nx::Tensor sequence(int64_t n, int64_t t, int64_t f, int seed = 1) {
  return nx::random::normal(nx::random::key(seed), {n, t, f});
}

size_t count_ops(const nx::Graph& g, nx::Op op) {
  return static_cast<size_t>(std::count_if(g.nodes.begin(), g.nodes.end(), [op](const auto& n) { return n->op == op; }));
}

// The steps are one loop node: the graph does not grow with the sequence length.
TEST(NnLayerRecurrent, TheTimeLoopIsOneLoopNodeNotUnrolled) {
  for (bool sequences : {true, false}) {
    for (int kind = 0; kind < 2; ++kind) {
      SCOPED_TRACE(std::string(kind ? "gru" : "lstm") + (sequences ? " sequences" : " last"));
      nn::Layer l = kind ? nn::gru(5, {.return_sequences = sequences}) : nn::lstm(5, {.return_sequences = sequences});
      nn::Model m(nn::input("x", {-1, -1, 3}) | l);
      nn::Variables v = nn::init(m, nx::random::key(0), sequence(2, 4, 3));
      auto fwd = nx::jit([&m](const nn::Variables& vars, const nx::Tensor& x) { return nn::apply(m, vars, x).outputs[0]; });
      nx::Graph short_graph = fwd.graph(v, sequence(2, 4, 3));
      nx::Graph long_graph = fwd.graph(v, sequence(2, 40, 3));
      EXPECT_EQ(short_graph.nodes.size(), long_graph.nodes.size());
      EXPECT_GE(count_ops(long_graph, nx::Op::While), 1u);
      // The input projection of every step: one matmul outside the loop.
      EXPECT_EQ(count_ops(long_graph, nx::Op::DotGeneral), 1u);
      EXPECT_EQ(nn::predict(m, v, sequence(2, 40, 3)).shape(),
                sequences ? nx::Shape({2, 40, 5}) : nx::Shape({2, 5}));
    }
  }
}

// The gradient is back-propagation through time in one backward loop: no loop inside a
// loop body (the generic gradient of a loop reruns the steps from the start for each step).
TEST(NnLayerRecurrent, TheGradientIsOneBackwardLoop) {
  for (int kind = 0; kind < 2; ++kind) {
    SCOPED_TRACE(kind ? "gru" : "lstm");
    nn::Model m(nn::input("x", {-1, -1, 3}) | (kind ? nn::gru(5) : nn::lstm(5)) | nn::dense(1));
    nx::Tensor x = sequence(2, 30, 3);
    nn::Variables v = nn::init(m, nx::random::key(0), x);
    auto loss = [&m](const nn::Variables& vars, const nx::Tensor& in) { return nx::sum(nn::apply(m, vars, in).outputs[0]); };
    nx::Graph g = nx::grad<0, 1>(loss).graph(v, x);
    size_t loops = 0;
    for (const auto& n : g.nodes) {
      if (n->op != nx::Op::While) continue;
      ++loops;
      for (const auto& body : n->attrs.bodies) EXPECT_EQ(count_ops(*body, nx::Op::While), 0u);
    }
    EXPECT_EQ(loops, 2u);  // the forward steps and the backward steps
    auto [gv, gx] = nx::grad<0, 1>(loss)(v, x);
    EXPECT_EQ(gx.shape(), x.shape());
    EXPECT_GT(nx::sum(nx::abs(gx)).item<double>(), 0.0);
  }
}

// bf16 compute (f32 parameters) stays close to f32, gradients included.
TEST(NnLayerRecurrent, MixedPrecision) {
  nx::Tensor x = sequence(2, 6, 8);
  for (int kind = 0; kind < 3; ++kind) {
    SCOPED_TRACE(kind);
    auto make = [kind] {
      return kind == 0 ? nn::lstm(8).named("l") : kind == 1 ? nn::gru(8).named("l") : nn::multi_head_attention(2).named("l");
    };
    nn::Model full(nn::input("x", {-1, -1, 8}) | make());
    nn::Model half(nn::input("x", {-1, -1, 8}) | make(), {.policy = {.params = nx::f32, .compute = nx::bf16, .output = nx::f32}});
    nn::Variables v = nn::init(full, nx::random::key(0), x);
    nx::Tensor y = nn::predict(half, v, x);
    EXPECT_EQ(y.dtype(), nx::f32);
    EXPECT_TRUE(nx::allclose(y, nn::predict(full, v, x), {.rtol = 5e-2, .atol = 5e-2}));
    auto loss = [](const nn::Model& m) {
      return [&m](const nn::Variables& vars, const nx::Tensor& in) { return nx::sum(nn::apply(m, vars, in).outputs[0]); };
    };
    nn::Variables gh = nx::grad(loss(half))(v, x), gf = nx::grad(loss(full))(v, x);
    for (const auto& [name, t] : gf.params.at("l")) {
      EXPECT_EQ(gh.params.at("l").at(name).dtype(), nx::f32) << name;
      EXPECT_TRUE(nx::allclose(gh.params.at("l").at(name), t, {.rtol = 1e-1, .atol = 1e-1})) << name;
    }
  }
}

TEST(NnLayerRecurrent, ParametersAndDefaultInitAsPyTorch) {
  nn::Model m(nn::input("x", {-1, -1, 3}) | nn::lstm(16) | nn::gru(4, {.return_sequences = false}));
  nn::Variables v = nn::init(m, nx::random::key(0), sequence(2, 3, 3));
  const auto& l = v.params.at("lstm_0");
  EXPECT_EQ(l.at("weight_ih").shape(), (nx::Shape{64, 3}));
  EXPECT_EQ(l.at("weight_hh").shape(), (nx::Shape{64, 16}));
  EXPECT_EQ(l.at("bias_ih").shape(), (nx::Shape{64}));
  EXPECT_EQ(l.at("bias_hh").shape(), (nx::Shape{64}));
  const auto& r = v.params.at("gru_0");
  EXPECT_EQ(r.at("weight_ih").shape(), (nx::Shape{12, 16}));
  EXPECT_EQ(r.at("weight_hh").shape(), (nx::Shape{12, 4}));
  // uniform(-1/sqrt(H), 1/sqrt(H)) for everything
  for (const auto& [layer, h] : {std::pair{"lstm_0", 16.0}, std::pair{"gru_0", 4.0}}) {
    for (const auto& [p, t] : v.params.at(layer)) {
      const double top = nx::reduce_max(nx::abs(t)).item<double>();
      EXPECT_LE(top, 1 / std::sqrt(h)) << layer << "." << p;
      EXPECT_GT(top, 0.7 / std::sqrt(h)) << layer << "." << p;
    }
  }
  std::ostringstream os;
  os << m;
  EXPECT_NE(os.str().find("hidden=4, return_sequences=false"), std::string::npos) << os.str();
  EXPECT_NE(os.str().find("(?, 1, 16)"), std::string::npos) << os.str();
  // A custom initializer.
  nn::Model z(nn::input("x", {-1, -1, 3}) | nn::gru(4, {.bias_initializer = nn::initializers::zeros()}));
  nn::Variables vz = nn::init(z, nx::random::key(0), sequence(1, 2, 3));
  EXPECT_EQ(nx::sum(nx::abs(vz.params.at("gru_0").at("bias_hh"))).item<double>(), 0.0);
}

TEST(NnLayerRecurrent, Errors) {
  expect_error<nx::ValueError>([] { nn::lstm(0); }, "[nn.lstm] hidden must be positive");
  expect_error<nx::ValueError>([] { nn::gru(-2); }, "[nn.gru] hidden must be positive");
  nn::Model m(nn::input("x", {-1, 4}) | nn::lstm(3));
  expect_error<nx::ShapeError>([&] { nn::init(m, nx::random::key(0), nx::zeros({2, 4})); },
                               "[lstm_0 (lstm)] expects a batch-first sequence (N, T, F), given (2, 4)");
  nn::Model g(nn::input("x", {-1, -1, 4}) | nn::gru(3));
  expect_error<nx::ShapeError>([&] { nn::init(g, nx::random::key(0), nx::zeros({2, 0, 4})); },
                               "[gru_0 (gru)] needs at least one time step");
  nn::Variables v = nn::init(g, nx::random::key(0), sequence(2, 3, 4));
  expect_error<nx::ShapeError>([&] { nn::predict(g, v, nx::reshape(sequence(2, 3, 4), {2, 3, 2, 2})); }, "nn.input x");
  nn::Model g5(nn::input("x", {-1, -1, -1}) | nn::gru(3));
  expect_error<nx::ShapeError>([&] { nn::predict(g5, v, sequence(2, 3, 5)); },
                               "[gru_0 (gru)] parameter 'weight_ih' is (9, 4) but the input (2, 3, 5) needs (9, 5)");
}

TEST(NnLayerAttention, ArityAndHeadsAreChecked) {
  nn::Node q = nn::input("q", {-1, 4, 6});
  nn::Node kv = nn::input("kv", {-1, 5, 6});
  nn::Model two(nn::multi_head_attention(2)({q, kv}));
  expect_error<nx::ValueError>([&] { nn::init(two, nx::random::key(0), {nx::zeros({1, 4, 6}), nx::zeros({1, 5, 6})}); },
                               "[multi_head_attention_0 (multi_head_attention)] takes one input (self-attention) or three "
                               "(query, key, value), given 2");
  nn::Model heads(q | nn::multi_head_attention(4));
  expect_error<nx::ShapeError>([&] { nn::init(heads, nx::random::key(0), nx::zeros({1, 4, 6})); },
                               "the embedding size E = 6 must be a multiple of num_heads = 4");
  nn::Node other = nn::input("v", {-1, 5, 8});
  nn::Model mismatch(nn::multi_head_attention(2)({q, kv, other}));
  expect_error<nx::ShapeError>(
      [&] { nn::init(mismatch, nx::random::key(0), {nx::zeros({1, 4, 6}), nx::zeros({1, 5, 6}), nx::zeros({1, 5, 8})}); },
      "key and value need the query's batch and embedding sizes and one length");
  expect_error<nx::ValueError>([] { nn::multi_head_attention(0); }, "num_heads must be positive");
  expect_error<nx::ValueError>([] { nn::multi_head_attention(2, {.dropout = 1.0}); }, "dropout must be in [0, 1)");
}

TEST(NnLayerAttention, ParametersInitAndDropout) {
  nn::Model m(nn::input("x", {-1, -1, 8}) | nn::multi_head_attention(2, {.dropout = 0.5}));
  nx::Tensor x = sequence(2, 5, 8);
  nn::Variables v = nn::init(m, nx::random::key(0), x);
  const auto& p = v.params.at("multi_head_attention_0");
  EXPECT_EQ(p.at("in_proj_weight").shape(), (nx::Shape{24, 8}));
  EXPECT_EQ(p.at("in_proj_bias").shape(), (nx::Shape{24}));
  EXPECT_EQ(p.at("out_proj_weight").shape(), (nx::Shape{8, 8}));
  EXPECT_EQ(p.at("out_proj_bias").shape(), (nx::Shape{8}));
  EXPECT_LE(nx::reduce_max(nx::abs(p.at("in_proj_weight"))).item<double>(), std::sqrt(6.0 / 32));  // xavier_uniform
  EXPECT_LE(nx::reduce_max(nx::abs(p.at("out_proj_weight"))).item<double>(), 1 / std::sqrt(8.0));
  EXPECT_EQ(nx::sum(nx::abs(p.at("in_proj_bias"))).item<double>(), 0.0);
  // Dropout acts in training only.
  nn::Model plain(nn::input("x", {-1, -1, 8}) | nn::multi_head_attention(2));
  nx::Tensor infer = nn::predict(m, v, x);
  EXPECT_TRUE(nx::allclose(infer, nn::predict(plain, v, x), {.rtol = 1e-6, .atol = 1e-6}));
  expect_error<nx::ValueError>([&] { nn::apply(m, v, x, {.training = true}); }, "training mode needs a random key");
  nx::Tensor train = nn::apply(m, v, x, {.training = true, .key = nx::random::key(3)}).outputs[0];
  EXPECT_FALSE(nx::allclose(train, infer, {.rtol = 1e-3, .atol = 1e-3}));
}

// A causal layer's output at step i does not depend on later steps.
TEST(NnLayerAttention, CausalOutputsIgnoreLaterSteps) {
  nn::Model m(nn::input("x", {-1, -1, 4}) | nn::multi_head_attention(2, {.causal = true}));
  nx::Tensor x = sequence(1, 6, 4);
  nn::Variables v = nn::init(m, nx::random::key(0), x);
  nx::Tensor changed = nx::concatenate({nx::slice_along_axis(x, 1, 0, 3), sequence(1, 3, 4, 9)}, 1);
  nx::Tensor a = nx::slice_along_axis(nn::predict(m, v, x), 1, 0, 3);
  nx::Tensor b = nx::slice_along_axis(nn::predict(m, v, changed), 1, 0, 3);
  EXPECT_TRUE(nx::allclose(a, b, {.rtol = 1e-6, .atol = 1e-6}));
}

}  // namespace
