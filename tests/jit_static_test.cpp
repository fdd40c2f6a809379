// jit and grad over ordinary C++ functions: static (non-tensor) arguments keyed by value,
// structs registered as trees with NX_TREE, and tree_map.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "nx/io/state_dict.hpp"
#include "nx/nx.hpp"

namespace {

enum class Activation { relu, tanh };

nx::Tensor activate(const nx::Tensor& x, Activation a) {
  return a == Activation::relu ? nx::max(x, 0.0) : nx::tanh(x);
}

std::vector<float> values(const nx::Tensor& t) { return t.to_vector<float>(); }

}  // namespace

// At namespace scope, as a user writes them (NX_TREE goes in the struct's namespace).
namespace model {

struct Linear {
  nx::Tensor w, b;
};
NX_TREE(Linear, w, b)

struct Mlp {
  std::vector<Linear> layers;
  std::string activation;  // static: part of the signature, copied through
  float scale;             // a number member can hold no tensor: static too
};
NX_TREE(Mlp, layers, activation, scale)

nx::Tensor forward(const Mlp& m, const nx::Tensor& x) {
  nx::Tensor h = x;
  for (const Linear& l : m.layers) {
    h = nx::dot(h, l.w) + l.b;
    h = m.activation == "tanh" ? nx::tanh(h) : nx::max(h, 0.0);
  }
  return h * m.scale;
}

// A struct of settings: static because it is not a tree and has operator==.
struct Settings {
  int repeat = 1;
  double factor = 1.0;
  std::string mode = "mul";
  bool operator==(const Settings&) const = default;
};

}  // namespace model

namespace {

TEST(JitStatic, IntParameterIsStaticAndKeyedByValue) {
  auto f = nx::jit([](const nx::Tensor& x, int n) { return x * n; });
  nx::Tensor x = nx::tensor({1.0, 2.0});
  EXPECT_EQ(values(f(x, 3)), (std::vector<float>{3, 6}));
  EXPECT_EQ(f.compiles(), 1);
  EXPECT_EQ(values(f(x, 3)), (std::vector<float>{3, 6}));
  EXPECT_EQ(f.compiles(), 1);  // equal value: cache hit
  EXPECT_EQ(values(f(x, 4)), (std::vector<float>{4, 8}));
  EXPECT_EQ(f.compiles(), 2);  // new value: traced again
  EXPECT_EQ(values(f(x, 3)), (std::vector<float>{3, 6}));
  EXPECT_EQ(f.compiles(), 2);
  EXPECT_EQ(f(x, 3).dtype(), nx::f32);
}

TEST(JitStatic, NumbersStayWeakTensorsWhereTheFunctionTakesATensor) {
  auto f = nx::jit([](const nx::Tensor& x, const nx::Tensor& s) { return x * s; });
  nx::Tensor x = nx::tensor({1.0, 2.0});
  EXPECT_EQ(values(f(x, 2.0)), (std::vector<float>{2, 4}));
  EXPECT_EQ(values(f(x, 3.0)), (std::vector<float>{3, 6}));
  EXPECT_EQ(f.compiles(), 1);  // one trace for every value
  // The same number as a double parameter: static, one compile per value.
  auto g = nx::jit([](const nx::Tensor& x, double s) { return x * s; });
  EXPECT_EQ(values(g(x, 2.0)), (std::vector<float>{2, 4}));
  EXPECT_EQ(values(g(x, 3.0)), (std::vector<float>{3, 6}));
  EXPECT_EQ(g.compiles(), 2);
  EXPECT_EQ(values(g(x, 2.0)), (std::vector<float>{2, 4}));
  EXPECT_EQ(g.compiles(), 2);
}

TEST(JitStatic, StaticArgForcesAValueStatic) {
  auto f = nx::jit([](const nx::Tensor& x, const nx::Tensor& s) { return x * s; });
  nx::Tensor x = nx::tensor({1.0, 2.0});
  EXPECT_EQ(values(f(x, nx::static_arg(2.0))), (std::vector<float>{2, 4}));
  EXPECT_EQ(values(f(x, nx::static_arg(5.0))), (std::vector<float>{5, 10}));
  EXPECT_EQ(f.compiles(), 2);
  // Static: the value is a constant of the graph, not a parameter.
  EXPECT_EQ(f.graph(x, nx::static_arg(5.0)).params.size(), 1u);
  EXPECT_EQ(f.graph(x, 5.0).params.size(), 2u);
  // A function taking the plain type receives the unwrapped value.
  auto g = nx::jit([](const nx::Tensor& y, int n) { return y + n; });
  EXPECT_EQ(values(g(x, nx::static_arg(1))), (std::vector<float>{2, 3}));
}

TEST(JitStatic, EnumsStringsAndBoolsAreStatic) {
  auto f = nx::jit([](const nx::Tensor& x, Activation a, const std::string& scale, bool negate) {
    nx::Tensor y = activate(x, a) * (scale == "double" ? 2.0 : 1.0);
    return negate ? -y : y;
  });
  nx::Tensor x = nx::tensor({-1.0, 2.0});
  EXPECT_EQ(values(f(x, Activation::relu, std::string("double"), false)), (std::vector<float>{0, 4}));
  EXPECT_EQ(values(f(x, Activation::relu, std::string("single"), false)), (std::vector<float>{0, 2}));
  EXPECT_EQ(values(f(x, Activation::relu, std::string("single"), true)), (std::vector<float>{0, -2}));
  std::vector<float> t = values(f(x, Activation::tanh, std::string("single"), false));
  EXPECT_NEAR(t[0], std::tanh(-1.0f), 1e-6);
  EXPECT_EQ(f.compiles(), 4);
  EXPECT_EQ(values(f(x, Activation::relu, std::string("double"), false)), (std::vector<float>{0, 4}));
  EXPECT_EQ(f.compiles(), 4);
  // Strings longer than one key word, differing only at the end.
  auto g = nx::jit([](const nx::Tensor& y, std::string_view name) { return y * static_cast<double>(name.size()); });
  std::string a = "a_rather_long_name_1", b = "a_rather_long_name_2";
  g(x, std::string_view(a));
  g(x, std::string_view(b));
  EXPECT_EQ(g.compiles(), 2);
  std::string a_again = a;  // another buffer, the same characters
  g(x, std::string_view(a_again));
  EXPECT_EQ(g.compiles(), 2);
}

TEST(JitStatic, CStringsCompareByCharacters) {
  auto f = nx::jit([](const nx::Tensor& x, const char* op) { return std::string(op) == "neg" ? -x : x; });
  nx::Tensor x = nx::tensor({1.0});
  std::string neg = "neg", id = "id";
  EXPECT_EQ(values(f(x, neg.c_str())), (std::vector<float>{-1}));
  EXPECT_EQ(values(f(x, id.c_str())), (std::vector<float>{1}));
  std::string neg_again = "neg";
  EXPECT_EQ(values(f(x, neg_again.c_str())), (std::vector<float>{-1}));
  EXPECT_EQ(f.compiles(), 2);
  EXPECT_EQ(values(f(x, "neg")), (std::vector<float>{-1}));  // a literal: its own argument type
}

TEST(JitStatic, SettingsStructsAreComparedByValueAndKeptByCopy) {
  auto f = nx::jit([](const nx::Tensor& x, const model::Settings& s) {
    nx::Tensor y = x;
    for (int i = 0; i < s.repeat; ++i) y = s.mode == "mul" ? y * s.factor : y + s.factor;
    return y;
  });
  nx::Tensor x = nx::tensor({1.0, 2.0});
  EXPECT_EQ(values(f(x, model::Settings{2, 3.0, "mul"})), (std::vector<float>{9, 18}));
  EXPECT_EQ(values(f(x, model::Settings{2, 3.0, "add"})), (std::vector<float>{7, 8}));
  EXPECT_EQ(f.compiles(), 2);
  // The temporaries above are gone: the cache compares against its own copies.
  model::Settings again{2, 3.0, "mul"};
  EXPECT_EQ(values(f(x, again)), (std::vector<float>{9, 18}));
  EXPECT_EQ(f.compiles(), 2);
  EXPECT_EQ(values(f(x, model::Settings{1, 3.0, "mul"})), (std::vector<float>{3, 6}));
  EXPECT_EQ(f.compiles(), 3);
}

TEST(JitStatic, ContainersOfNumbersAreStaticWhereTheFunctionTakesThem) {
  auto f = nx::jit([](const nx::Tensor& x, const std::vector<int>& axes) { return nx::sum(x, axes); });
  nx::Tensor x = nx::ones({2, 3});
  EXPECT_EQ(values(f(x, std::vector<int>{0})), (std::vector<float>{2, 2, 2}));
  EXPECT_EQ(values(f(x, std::vector<int>{1})), (std::vector<float>{3, 3}));
  EXPECT_EQ(f.compiles(), 2);
  EXPECT_EQ(values(f(x, std::vector<int>{0})), (std::vector<float>{2, 2, 2}));
  EXPECT_EQ(f.compiles(), 2);
}

TEST(JitStatic, NestedJitInlinesWithStaticArguments) {
  auto inner = nx::jit([](const nx::Tensor& x, int n, Activation a) { return activate(x, a) * n; });
  auto outer = nx::jit([&](const nx::Tensor& x) { return inner(x, 2, Activation::relu) + 1.0; });
  EXPECT_EQ(values(outer(nx::tensor({-1.0, 3.0}))), (std::vector<float>{1, 7}));
  EXPECT_EQ(inner.compiles(), 0);  // inlined into the outer trace
}

TEST(JitStatic, TreeStructsFlattenRebuildAndKeyTheirStaticMembers) {
  model::Mlp m{{{nx::ones({2, 3}), nx::zeros({3})}, {nx::ones({3, 1}), nx::tensor({0.5})}}, "relu", 2.0f};
  nx::Tensor x = nx::tensor({{1.0, -2.0}});
  auto f = nx::jit(model::forward);
  EXPECT_EQ(values(f(m, x)), values(model::forward(m, x)));
  EXPECT_EQ(values(f(m, x)), (std::vector<float>{1.0f}));  // relu(-1) = 0 per unit, then 0.5, times 2
  EXPECT_EQ(f.compiles(), 1);
  model::Mlp t = m;
  t.activation = "tanh";
  EXPECT_NEAR(values(f(t, x))[0], values(model::forward(t, x))[0], 1e-6);
  EXPECT_EQ(f.compiles(), 2);  // a static member changed
  t.scale = 3.0f;
  EXPECT_NEAR(values(f(t, x))[0], values(model::forward(t, x))[0], 1e-6);
  EXPECT_EQ(f.compiles(), 3);
  model::Mlp shorter = m;
  shorter.layers.pop_back();
  shorter.layers[0].w = nx::ones({2, 1});
  shorter.layers[0].b = nx::zeros({1});
  EXPECT_EQ(values(f(shorter, x)), values(model::forward(shorter, x)));
  EXPECT_EQ(f.compiles(), 4);  // the vector's length is part of the structure
  EXPECT_EQ(values(f(m, x)), (std::vector<float>{1.0f}));
  EXPECT_EQ(f.compiles(), 4);

  // A struct comes back out of a jitted function with its static members.
  auto halve = nx::jit([](const model::Mlp& p) {
    return nx::tree_map([](const nx::Tensor& t) { return t * 0.5; }, p);
  });
  model::Mlp h = halve(m);
  EXPECT_EQ(h.activation, "relu");
  EXPECT_EQ(h.scale, 2.0f);
  ASSERT_EQ(h.layers.size(), 2u);
  EXPECT_EQ(values(h.layers[1].b), (std::vector<float>{0.25f}));
}

TEST(JitStatic, GradOverTreeStructs) {
  model::Linear l{nx::tensor({{1.0}, {2.0}}), nx::tensor({0.5})};
  nx::Tensor x = nx::tensor({{3.0, 4.0}});
  auto loss = [](const model::Linear& p, const nx::Tensor& x) { return nx::sum(nx::dot(x, p.w) + p.b); };
  model::Linear g = nx::grad(loss)(l, x);
  EXPECT_EQ(values(g.w), (std::vector<float>{3, 4}));
  EXPECT_EQ(values(g.b), (std::vector<float>{1}));
  // Static members of the differentiated tree are copied into the gradient tree.
  model::Mlp m{{l}, "relu", 1.0f};
  auto mlp_loss = [](const model::Mlp& p, const nx::Tensor& x) { return nx::sum(model::forward(p, x)); };
  model::Mlp gm = nx::grad(mlp_loss)(m, x);
  EXPECT_EQ(gm.activation, "relu");
  ASSERT_EQ(gm.layers.size(), 1u);
  EXPECT_EQ(values(gm.layers[0].w), (std::vector<float>{3, 4}));
}

TEST(JitStatic, GradWithStaticArguments) {
  auto loss = [](const nx::Tensor& x, int power, Activation a) {
    nx::Tensor y = activate(x, a);
    for (int i = 1; i < power; ++i) y = y * x;
    return nx::sum(y);
  };
  auto g = nx::grad(loss);
  nx::Tensor x = nx::tensor({1.0, 2.0});
  EXPECT_EQ(values(g(x, 2, Activation::relu)), (std::vector<float>{2, 4}));  // d x^2 = 2x
  EXPECT_EQ(values(g(x, 3, Activation::relu)), (std::vector<float>{3, 12}));  // d x^3 = 3x^2
  EXPECT_EQ(g.stats().compiles, 2);
  EXPECT_EQ(values(g(x, 2, Activation::relu)), (std::vector<float>{2, 4}));
  EXPECT_EQ(g.stats().compiles, 2);
  auto [value, grads] = nx::value_and_grad(loss)(x, 2, Activation::relu);
  EXPECT_EQ(value.item<float>(), 5.0f);
  EXPECT_EQ(values(grads), (std::vector<float>{2, 4}));
  // Gradients of several arguments around a static one, and inside a jit.
  auto both = nx::grad<0, 2>([](const nx::Tensor& a, int n, const nx::Tensor& b) { return nx::sum(a * b * n); });
  auto [ga, gb] = both(x, 3, nx::tensor({5.0, 7.0}));
  EXPECT_EQ(values(ga), (std::vector<float>{15, 21}));
  EXPECT_EQ(values(gb), (std::vector<float>{3, 6}));
  auto jitted = nx::jit([&](const nx::Tensor& a) { return g(a, 2, Activation::relu); });
  EXPECT_EQ(values(jitted(x)), (std::vector<float>{2, 4}));
}

TEST(JitStatic, JvpKeepsNumberPrimalsTraced) {
  // jvp's jitted wrapper takes primals and tangents of one type: numbers there stay leaves.
  auto d = nx::jvp([](const nx::Tensor& x) { return x * x; });
  auto [y, dy] = d(2.0, 1.0);
  EXPECT_EQ(y.item<float>(), 4.0f);
  EXPECT_EQ(dy.item<float>(), 4.0f);
  auto [y3, dy3] = d(3.0, 1.0);
  EXPECT_EQ(dy3.item<float>(), 6.0f);
  EXPECT_EQ(d.stats().compiles, 1);
}

TEST(JitStatic, TreeStructsWorkWithWhileLoopAndStateDicts) {
  model::Mlp m{{{nx::ones({2}), nx::zeros({2})}}, "relu", 1.0f};
  model::Mlp out = nx::while_loop(
      m, [](const model::Mlp& s) { return nx::sum(s.layers[0].b) < 6.0; },
      [](const model::Mlp& s) {
        return nx::tree_map([](const nx::Tensor& t) { return t + 1.0; }, s);
      });
  EXPECT_EQ(values(out.layers[0].b), (std::vector<float>{3, 3}));
  EXPECT_EQ(values(out.layers[0].w), (std::vector<float>{4, 4}));
  // State dicts number an NX_TREE struct's leaves in member order.
  nx::io::TensorDict sd = nx::io::to_state_dict(std::map<std::string, model::Linear>{{"fc", m.layers[0]}});
  ASSERT_EQ(sd.size(), 2u);
  EXPECT_EQ(values(sd.at("fc.0")), (std::vector<float>{1, 1}));
  model::Linear loaded = nx::io::from_state_dict(std::map<std::string, model::Linear>{{"fc", out.layers[0]}}, sd).at("fc");
  EXPECT_EQ(values(loaded.w), (std::vector<float>{1, 1}));
}

TEST(JitStatic, TreeMapOneAndTwoTrees) {
  model::Mlp m{{{nx::ones({2, 1}), nx::tensor({1.0})}}, "relu", 1.0f};
  model::Mlp doubled = nx::tree_map([](const nx::Tensor& t) { return t * 2.0; }, m);
  EXPECT_EQ(values(doubled.layers[0].w), (std::vector<float>{2, 2}));
  EXPECT_EQ(values(doubled.layers[0].b), (std::vector<float>{2}));
  EXPECT_EQ(values(m.layers[0].w), (std::vector<float>{1, 1}));  // the input is untouched

  // An SGD step: params - lr * grads, over a map of tensors.
  using Params = std::map<std::string, nx::Tensor>;
  Params p{{"w", nx::tensor({1.0, 2.0})}, {"b", nx::tensor({3.0})}};
  Params g{{"w", nx::tensor({10.0, 20.0})}, {"b", nx::tensor({30.0})}};
  Params next = nx::tree_map([](const nx::Tensor& a, const nx::Tensor& b) { return a - 0.1 * b; }, p, g);
  EXPECT_EQ(values(next.at("w")), (std::vector<float>{0, 0}));
  EXPECT_EQ(values(next.at("b")), (std::vector<float>{0}));

  Params other{{"w", nx::tensor({1.0, 2.0})}, {"bias", nx::tensor({3.0})}};
  EXPECT_THROW(nx::tree_map([](const nx::Tensor& a, const nx::Tensor& b) { return a + b; }, p, other), nx::ValueError);
  std::vector<nx::Tensor> two{nx::ones({1}), nx::ones({1})}, three{nx::ones({1}), nx::ones({1}), nx::ones({1})};
  EXPECT_THROW(nx::tree_map([](const nx::Tensor& a, const nx::Tensor& b) { return a + b; }, two, three), nx::ValueError);
}

}  // namespace
