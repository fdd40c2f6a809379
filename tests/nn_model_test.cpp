// nx::nn models: building, naming, init, apply, predict, the table, errors, sharing,
// freezing, state, mixed precision.
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include <nx/nn.hpp>
#include <nx/nx.hpp>

#include "test_support.hpp"

namespace nn = nx::nn;
using nx_test::expect_error;

namespace {

nn::Model mlp() {
  nn::Node x = nn::input("x", {-1, 784});
  return nn::Model(x | nn::dense(128, {.activation = "relu"}) | nn::dense(10));
}

nx::Tensor batch(int64_t n, int64_t f, int seed = 1) { return nx::random::uniform(nx::random::key(seed), {n, f}); }

}  // namespace

TEST(NnModel, NamesLayersByOpInOrder) {
  nn::Node x = nn::input("x", {-1, 4});
  nn::Node y = x | nn::dense(3) | nn::relu() | nn::dense(2).named("head");
  nn::Model m(y);
  EXPECT_EQ(m.layer_names(), (std::vector<std::string>{"dense_0", "relu_0", "head"}));
  ASSERT_EQ(m.inputs().size(), 1u);
  EXPECT_EQ(m.inputs()[0].name, "x");
}

TEST(NnModel, InitIsReproducibleFromTheKey) {
  nn::Model m = mlp();
  nn::Variables a = nn::init(m, nx::random::key(7), batch(2, 784));
  nn::Variables b = nn::init(m, nx::random::key(7), batch(5, 784));
  nn::Variables c = nn::init(m, nx::random::key(8), batch(2, 784));
  ASSERT_EQ(a.params.size(), 2u);
  EXPECT_EQ(a.params.at("dense_0").at("weight").shape(), (nx::Shape{128, 784}));
  EXPECT_EQ(a.params.at("dense_1").at("bias").shape(), (nx::Shape{10}));
  EXPECT_EQ(a.parameter_count(), 784 * 128 + 128 + 128 * 10 + 10);
  EXPECT_TRUE(nx::all(a.params.at("dense_0").at("weight") == b.params.at("dense_0").at("weight")).item<bool>());
  EXPECT_FALSE(nx::all(a.params.at("dense_0").at("weight") == c.params.at("dense_0").at("weight")).item<bool>());
  // glorot_uniform: limit sqrt(6 / (fan_in + fan_out))
  const double limit = std::sqrt(6.0 / (784 + 128));
  EXPECT_LE(nx::reduce_max(nx::abs(a.params.at("dense_0").at("weight"))).item<double>(), limit);
  EXPECT_GT(nx::reduce_max(nx::abs(a.params.at("dense_0").at("weight"))).item<double>(), 0.9 * limit);
  EXPECT_EQ(nx::sum(nx::abs(a.params.at("dense_0").at("bias"))).item<double>(), 0.0);
}

TEST(NnModel, PredictComputesTheLayers) {
  nn::Model m = mlp();
  nx::Tensor x = batch(3, 784);
  nn::Variables v = nn::init(m, nx::random::key(1), x);
  const auto& p = v.params;
  nx::Tensor h = nx::max(nx::dot(x, nx::transpose(p.at("dense_0").at("weight"))) + p.at("dense_0").at("bias"), 0.0);
  nx::Tensor want = nx::dot(h, nx::transpose(p.at("dense_1").at("weight"))) + p.at("dense_1").at("bias");
  nx::Tensor got = nn::predict(m, v, x);
  EXPECT_TRUE(nx::allclose(got, want, {.rtol = 1e-5, .atol = 1e-5}));
  EXPECT_TRUE(nx::allclose(nn::apply(m, v, x).outputs[0], want, {.rtol = 1e-5, .atol = 1e-5}));
}

TEST(NnModel, WrongInputShapeNamesTheInputAndShapes) {
  nn::Model m = mlp();
  nn::Variables v = nn::init(m, nx::random::key(1), batch(2, 784));
  expect_error<nx::ShapeError>([&] { nn::predict(m, v, batch(2, 100)); }, "[nn.input x] expected shape (?, 784), got (2, 100)");
  expect_error<nx::DTypeError>([&] { nn::predict(m, v, nx::zeros({2, 784}, nx::i32)); }, "expected f32 values, got i32");
  expect_error<nx::ValueError>([&] { nn::predict(m, v, std::vector<nx::Tensor>{}); }, "takes 1 input(s), given 0");
}

TEST(NnModel, WrongFeatureCountNamesTheLayer) {
  nn::Model m(nn::input("x", {-1, -1}) | nn::dense(4) | nn::dense(2));
  nn::Variables v = nn::init(m, nx::random::key(1), batch(2, 8));
  expect_error<nx::ShapeError>([&] { nn::predict(m, v, batch(2, 5)); },
                               "[dense_0 (dense)] parameter 'weight' is (4, 8) but the input (2, 5) needs (4, 5)");
}

TEST(NnModel, TableListsLayersShapesAndTotals) {
  nn::Node x = nn::input("image", {-1, 1, 28, 28});
  nn::Model m(x | nn::conv(32, {3, 3}, {.padding = nn::same, .activation = "relu"}) | nn::max_pool({2, 2}) |
              nn::flatten() | nn::dense(10));
  std::ostringstream os;
  os << m;
  const std::string t = os.str();
  EXPECT_NE(t.find("image (input, f32)"), std::string::npos) << t;
  EXPECT_NE(t.find("conv_0 (conv)"), std::string::npos) << t;
  EXPECT_NE(t.find("(?, 32, 28, 28)"), std::string::npos) << t;
  EXPECT_NE(t.find("(?, 32, 14, 14)"), std::string::npos) << t;
  EXPECT_NE(t.find("(?, 6272)"), std::string::npos) << t;
  EXPECT_NE(t.find("weight f32(32, 1, 3, 3)"), std::string::npos) << t;
  EXPECT_NE(t.find("filters=32, kernel=(3, 3), padding=same, activation=relu"), std::string::npos) << t;
  const int64_t total = 32 * 9 + 32 + 6272 * 10 + 10;
  EXPECT_NE(t.find("Total: 63,050 parameters (246.29 KiB)"), std::string::npos) << t << total;
}

TEST(NnModel, ALayerAppliedTwiceSharesItsParameters) {
  nn::Node a = nn::input("a", {-1, 3});
  nn::Node b = nn::input("b", {-1, 3});
  nn::Layer shared = nn::dense(2);
  nn::Model m(nn::add({shared(a), shared(b)}));
  nx::Tensor xa = batch(2, 3, 1), xb = batch(2, 3, 2);
  nn::Variables v = nn::init(m, nx::random::key(0), {xa, xb});
  ASSERT_EQ(v.params.size(), 1u);
  const auto& p = v.params.at("dense_0");
  auto lin = [&](const nx::Tensor& x) { return nx::dot(x, nx::transpose(p.at("weight"))) + p.at("bias"); };
  EXPECT_TRUE(nx::allclose(nn::predict(m, v, {{"b", xb}, {"a", xa}}), lin(xa) + lin(xb), {.rtol = 1e-5, .atol = 1e-6}));
  expect_error<nx::ValueError>([&] { nn::predict(m, v, std::map<std::string, nx::Tensor>{{"a", xa}}); }, "no tensor for input 'b'");
  std::ostringstream os;
  os << m;
  EXPECT_NE(os.str().find("shared with the first dense_0"), std::string::npos) << os.str();
}

TEST(NnModel, DuplicateNamesAreRefused) {
  nn::Node x = nn::input("x", {-1, 3});
  expect_error<nx::ValueError>([&] { nn::Model m(x | nn::dense(2).named("fc") | nn::dense(2).named("fc")); },
                               "two different layers are named 'fc'");
}

TEST(NnModel, GradientsFlowToParametersAndFrozenOnesGetNone) {
  nn::Model m = mlp();
  nx::Tensor x = batch(4, 784);
  nn::Variables v = nn::init(m, nx::random::key(3), x);
  auto loss = [&](const nn::Variables& vars) { return nx::sum(nx::square(nn::apply(m, vars, x).outputs[0])); };
  nn::Variables g = nx::grad(loss)(v);
  EXPECT_GT(nx::sum(nx::abs(g.params.at("dense_0").at("weight"))).item<double>(), 0.0);
  nn::Variables frozen = nn::freeze(v, {"dense_0"});
  nn::Variables gf = nx::grad(loss)(frozen);
  EXPECT_EQ(nx::sum(nx::abs(gf.params.at("dense_0").at("weight"))).item<double>(), 0.0);
  EXPECT_GT(nx::sum(nx::abs(gf.params.at("dense_1").at("weight"))).item<double>(), 0.0);
  EXPECT_TRUE(nn::is_frozen(frozen, "dense_0", "bias"));
  EXPECT_FALSE(nn::is_frozen(nn::unfreeze(frozen), "dense_0", "bias"));
  expect_error<nx::ValueError>([&] { nn::freeze(v, {"dense_9"}); }, "no parameter or layer named 'dense_9'");
}

TEST(NnModel, BatchNormKeepsRunningStatisticsInTheState) {
  nn::Model m(nn::input("x", {-1, 3, 4, 4}) | nn::batch_norm());
  nx::Tensor x = nx::random::normal(nx::random::key(2), {8, 3, 4, 4}) * 2.0 + 1.0;
  nn::Variables v = nn::init(m, nx::random::key(0), x);
  ASSERT_TRUE(v.state.at("batch_norm_0").count("running_mean"));
  nn::Forward train = nn::apply(m, v, x, {.training = true});
  nx::Tensor batch_mean = nx::mean(x, {0, 2, 3});
  nx::Tensor batch_var = nx::variance(x, {.axes = {0, 2, 3}, .ddof = 1});
  EXPECT_TRUE(nx::allclose(train.state.at("batch_norm_0").at("running_mean"), batch_mean * 0.1, {.atol = 1e-5}));
  EXPECT_TRUE(nx::allclose(train.state.at("batch_norm_0").at("running_var"), batch_var * 0.1 + 0.9, {.atol = 1e-5}));
  // Training normalises with the batch; inference with the (initial) running statistics.
  EXPECT_NEAR(nx::mean(train.outputs[0]).item<double>(), 0.0, 1e-5);
  nx::Tensor infer = nn::predict(m, v, x);
  EXPECT_TRUE(nx::allclose(infer, x / std::sqrt(1 + 1e-5), {.atol = 1e-5}));
  EXPECT_TRUE(nx::allclose(nn::apply(m, v, x).state.at("batch_norm_0").at("running_mean"), nx::zeros({3})));
}

TEST(NnModel, DropoutNeedsAKeyInTrainingAndIsTheIdentityInInference) {
  nn::Model m(nn::input("x", {-1, 1000}) | nn::dropout(0.5));
  nx::Tensor x = nx::ones({2, 1000});
  nn::Variables v = nn::init(m, nx::random::key(0), x);
  EXPECT_TRUE(nx::all(nn::predict(m, v, x) == x).item<bool>());
  expect_error<nx::ValueError>([&] { nn::apply(m, v, x, {.training = true}); }, "training mode needs a random key");
  nx::Tensor y = nn::apply(m, v, x, {.training = true, .key = nx::random::key(1)}).outputs[0];
  const double kept = nx::mean(nx::as_type(y != 0.0, nx::f32)).item<double>();
  EXPECT_NEAR(kept, 0.5, 0.05);
  EXPECT_DOUBLE_EQ(nx::reduce_max(y).item<double>(), 2.0);
}

TEST(NnModel, MixedPrecisionComputesInBf16WithF32Parameters) {
  nn::Node x = nn::input("x", {-1, 16});
  nn::Model m(x | nn::dense(8, {.activation = "relu"}) | nn::layer_norm() | nn::dense(4),
              {.policy = {.params = nx::f32, .compute = nx::bf16, .output = nx::f32}});
  nx::Tensor in = batch(2, 16);
  nn::Variables v = nn::init(m, nx::random::key(0), in);
  EXPECT_EQ(v.params.at("dense_0").at("weight").dtype(), nx::f32);
  nx::Tensor y = nn::predict(m, v, in);
  EXPECT_EQ(y.dtype(), nx::f32);
  nn::Model full(x | nn::dense(8, {.activation = "relu"}) | nn::layer_norm() | nn::dense(4));
  EXPECT_TRUE(nx::allclose(y, nn::predict(full, v, in), {.rtol = 5e-2, .atol = 5e-2}));
}

TEST(NnModel, CustomLayersAreTracedFunctions) {
  nn::Layer scale = nn::layer("scale", [](nn::Scope& s, const std::vector<nx::Tensor>& xs) {
    return xs[0] * s.param("gain", {1}, nn::initializers::full(3.0));
  });
  nn::Model m(nn::input("x", {-1, 2}) | scale | nn::fn("double", [](const nx::Tensor& t) { return t * 2.0; }));
  nx::Tensor x = nx::tensor({{1.0, 2.0}});
  nn::Variables v = nn::init(m, nx::random::key(0), x);
  EXPECT_TRUE(nx::allclose(nn::predict(m, v, x), x * 6.0));
  EXPECT_EQ(m.layer_names(), (std::vector<std::string>{"scale_0", "double_0"}));
}

TEST(NnModel, MultipleOutputs) {
  nn::Node x = nn::input("x", {-1, 4});
  nn::Node h = x | nn::dense(8, {.activation = "tanh"});
  nn::Model m({h | nn::dense(2), h | nn::dense(3)});
  nx::Tensor in = batch(5, 4);
  nn::Variables v = nn::init(m, nx::random::key(0), in);
  auto outs = nn::predict_all(m, v, in);
  ASSERT_EQ(outs.size(), 2u);
  EXPECT_EQ(outs[1].shape(), (nx::Shape{5, 3}));
  expect_error<nx::ValueError>([&] { nn::predict(m, v, in); }, "use nn::predict_all");
}

TEST(NnModel, PredictCompilesOncePerSignatureAndVariablesSaveAsAStateDict) {
  nn::Model m = mlp();
  nn::Variables v = nn::init(m, nx::random::key(0), batch(2, 784));
  nx::io::TensorDict sd = nx::io::to_state_dict(v.params);
  EXPECT_TRUE(sd.count("dense_0.weight"));
  nn::Variables back = v;
  back.params = nx::io::from_state_dict(v.params, sd);
  nx::Tensor x = batch(2, 784);
  EXPECT_TRUE(nx::all(nn::predict(m, back, x) == nn::predict(m, v, x)).item<bool>());
}

TEST(NnModel, BadLayerOptionsFailAtTheCallersLine) {
  expect_error<nx::ValueError>([] { nn::dense(0); }, "[nn.dense] units must be positive, given 0");
  expect_error<nx::ValueError>([] { nn::dense(3, {.activation = "relux"}); }, "unknown activation 'relux'");
  expect_error<nx::ValueError>([] { nn::conv(8, {3, 3}, {.strides = {1}}); }, "strides has 1 values for 2 spatial axes");
  expect_error<nx::ValueError>([] { nn::max_pool({}); }, "needs a window size per spatial axis");
  expect_error<nx::ValueError>([] { nn::dropout(1.0); }, "rate must be in [0, 1)");
  expect_error<nx::ValueError>([] { nn::batch_norm({.epsilon = 0}); }, "epsilon must be positive");
  expect_error<nx::ShapeError>([] { nn::reshape({-1, -1}); }, "at most one dim may be -1");
  expect_error<nx::ValueError>([] { nn::depthwise_conv({3, 3}, 1, {.groups = 2}); }, "leave .groups at 1");
}

TEST(NnModel, SetStateOfAStateNeverMadeRaises) {
  nn::Layer bad = nn::layer("bad", [](nn::Scope& s, const std::vector<nx::Tensor>& xs) {
    s.set_state("count", nx::sum(xs[0]));
    return xs[0];
  });
  nn::Model m(nn::input("x", {-1, 2}) | bad);
  nx::Tensor x = nx::ones({1, 2});
  nn::Variables v = nn::init(m, nx::random::key(0), x);
  expect_error<nx::ValueError>([&] { nn::apply(m, v, x, {.training = true}); },
                               "[bad_0 (bad)] set_state('count') of a state this layer never made");
}
