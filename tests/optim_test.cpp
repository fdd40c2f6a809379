// nx::optim against PyTorch and optax (tests/golden/gen_optim.py writes
// tests/golden/optim/optim_golden.npz). Each case runs 20 steps on the problem
//   loss = sum_k sum(w_k * (p_k - t_k)^2) + sum(sin(p_k)),  gradient 2 w (p - t) + cos(p),
// over three parameters a (2, 3), b (4,) and c (), and compares the parameters after every
// step with the reference's f64 trajectory: in f64 (eager, tight tolerance: the same
// formulas), and in f32 eagerly, under nx::jit and under nx::jit with the parameters and
// state donated (f32 tolerance; the generator checks that PyTorch's and optax's own f32
// runs sit well inside it). Schedules are compared with optax at steps 0..40.
#include "nx/optim.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "nx/io.hpp"
#include "nx/nx.hpp"
#include "test_support.hpp"

namespace {

namespace optim = nx::optim;
using Params = std::map<std::string, nx::Tensor>;
using Values = std::vector<double>;

constexpr int kSteps = 20;
constexpr int kScheduleSteps = 40;

// |got - want| <= atol + rtol * |want|; keep TOL_F32 in sync with the generator.
struct Tol {
  double rtol, atol;
};
Tol tol_for(nx::DType dt, bool scheduled = false) {
  if (dt != nx::f64) return Tol{2e-5, 2e-5};
  return scheduled ? Tol{1e-6, 1e-6} : Tol{1e-10, 1e-10};
}

const nx::io::TensorDict& golden() {
  static const nx::io::TensorDict g = nx::io::load_npz(std::string(NX_TEST_DATA_DIR) + "/optim/optim_golden.npz");
  return g;
}

const std::vector<std::pair<std::string, nx::Shape>>& shapes() {
  static const std::vector<std::pair<std::string, nx::Shape>> s{{"a", {2, 3}}, {"b", {4}}, {"c", {}}};
  return s;
}

// A flat (11,) golden vector as the parameter map, in `dt`.
Params split(const nx::Tensor& flat, nx::DType dt) {
  Params p;
  int64_t at = 0;
  for (const auto& [name, shape] : shapes()) {
    p[name] = nx::as_type(nx::reshape(nx::slice(flat, {at}, {shape.size()}), shape), dt);
    at += shape.size();
  }
  return p;
}

Values values_of(const Params& p) {
  Values v;
  for (const auto& [name, shape] : shapes()) {
    std::vector<double> x = p.at(name).to_vector<double>();
    v.insert(v.end(), x.begin(), x.end());
  }
  return v;
}

struct Problem {
  Params p0, target, weight;
};
Problem problem(nx::DType dt) {
  return {split(golden().at("problem.p0"), dt), split(golden().at("problem.t"), dt),
          split(golden().at("problem.w"), dt)};
}

nx::Tensor gradient(const nx::Tensor& p, const nx::Tensor& t, const nx::Tensor& w) {
  return 2.0 * w * (p - t) + nx::cos(p);
}
Params gradients(const Params& p, const Problem& pr) {
  Params g;
  for (const auto& [name, x] : p) g[name] = gradient(x, pr.target.at(name), pr.weight.at(name));
  return g;
}
nx::Tensor loss(const Params& p, const Problem& pr) {
  nx::Tensor total = nx::scalar(0.0, p.begin()->second.dtype());
  for (const auto& [name, x] : p) {
    nx::Tensor d = x - pr.target.at(name);
    total = total + nx::sum(pr.weight.at(name) * d * d) + nx::sum(nx::sin(x));
  }
  return total;
}

// ---- the cases, mirrored from CASES in gen_optim.py ----
struct Case {
  const char* name;
  std::function<optim::Optimizer()> make;
  bool scheduled = false;  // its rate is a schedule, whose values are f32 (so an f64 run is f32-exact only)
};
const std::vector<Case>& cases() {
  static const std::vector<Case> c = {
      {"sgd_default", [] { return optim::sgd(); }},
      {"sgd", [] { return optim::sgd(0.05); }},
      {"sgd_momentum", [] { return optim::sgd(0.05, {.momentum = 0.9}); }},
      {"sgd_dampening", [] { return optim::sgd(0.05, {.momentum = 0.9, .dampening = 0.3}); }},
      {"sgd_nesterov", [] { return optim::sgd(0.05, {.momentum = 0.9, .nesterov = true}); }},
      {"sgd_weight_decay", [] { return optim::sgd(0.05, {.momentum = 0.5, .weight_decay = 0.1}); }},
      {"sgd_warmup",
       [] {
         return optim::sgd(
             optim::linear_warmup(5, optim::exponential_decay(0.1, {.transition_steps = 4, .decay_rate = 0.7}), 0.01),
             {.momentum = 0.9});
       },
       true},
      {"adam_default", [] { return optim::adam(); }},
      {"adam", [] { return optim::adam(0.05); }},
      {"adam_amsgrad", [] { return optim::adam(0.05, {.b1 = 0.8, .b2 = 0.9, .amsgrad = true}); }},
      {"adam_weight_decay", [] { return optim::adam(0.05, {.weight_decay = 0.1}); }},
      {"adam_cosine", [] { return optim::adam(optim::cosine_decay(0.1, 20)); }, true},
      {"adamw", [] { return optim::adamw(0.05, {.weight_decay = 0.1}); }},
      {"adamw_default", [] { return optim::adamw(); }},
      {"adamw_amsgrad", [] { return optim::adamw(0.05, {.weight_decay = 0.2, .amsgrad = true}); }},
      {"adamax_default", [] { return optim::adamax(); }},
      {"adamax", [] { return optim::adamax(0.05); }},
      {"adamax_weight_decay", [] { return optim::adamax(0.05, {.b1 = 0.8, .b2 = 0.95, .weight_decay = 0.1}); }},
      {"nadam_default", [] { return optim::nadam(); }},
      {"nadam", [] { return optim::nadam(0.05); }},
      {"nadam_weight_decay", [] { return optim::nadam(0.05, {.weight_decay = 0.1, .momentum_decay = 0.01}); }},
      {"nadam_decoupled", [] { return optim::nadam(0.05, {.weight_decay = 0.1, .decoupled_weight_decay = true}); }},
      {"radam_default", [] { return optim::radam(); }},
      {"radam", [] { return optim::radam(0.05); }},
      {"radam_weight_decay", [] { return optim::radam(0.05, {.weight_decay = 0.1}); }},
      {"radam_decoupled", [] { return optim::radam(0.05, {.weight_decay = 0.1, .decoupled_weight_decay = true}); }},
      {"rmsprop_default", [] { return optim::rmsprop(); }},
      {"rmsprop_centered", [] { return optim::rmsprop(1e-2, {.centered = true}); }},
      {"rmsprop_centered_momentum",
       [] { return optim::rmsprop(1e-2, {.alpha = 0.9, .momentum = 0.9, .centered = true}); }},
      {"rmsprop_weight_decay", [] { return optim::rmsprop(1e-2, {.momentum = 0.5, .weight_decay = 0.1}); }},
      {"adagrad_default", [] { return optim::adagrad(); }},
      {"adagrad", [] { return optim::adagrad(0.1); }},
      {"adagrad_options",
       [] {
         return optim::adagrad(0.1,
                               {.lr_decay = 0.1, .weight_decay = 0.1, .initial_accumulator_value = 0.5, .eps = 1e-8});
       }},
      {"adadelta_default", [] { return optim::adadelta(); }},
      {"adadelta_options", [] { return optim::adadelta(0.5, {.rho = 0.8, .eps = 1e-4, .weight_decay = 0.1}); }},
      {"lamb_default", [] { return optim::lamb(); }},
      {"lamb", [] { return optim::lamb(0.05); }},
      {"lamb_weight_decay",
       [] { return optim::lamb(0.05, {.b1 = 0.8, .eps = 1e-4, .eps_root = 1e-6, .weight_decay = 0.1}); }},
      {"adabelief_default", [] { return optim::adabelief(); }},
      {"adabelief", [] { return optim::adabelief(0.05); }},
      {"adabelief_nesterov",
       [] { return optim::adabelief(0.05, {.b2 = 0.99, .eps = 1e-8, .eps_root = 1e-10, .nesterov = true}); }},
      {"chain_clip_sgd",
       [] {
         return optim::chain({optim::clip(0.5), optim::sgd(0.05)});
       }},
      {"chain_global_norm_adam",
       [] {
         return optim::chain({optim::clip_by_global_norm(1.0), optim::adam(0.05)});
       }},
      {"chain_decay_scale",
       [] {
         return optim::chain({optim::add_decayed_weights(0.1), optim::scale(-0.05)});
       }},
      {"chain_clip_schedule",
       [] {
         optim::Schedule cosine = optim::cosine_decay(0.5, 30);
         return optim::chain({optim::clip(1.0), optim::scale([cosine](const nx::Tensor& s) { return -cosine(s); })});
       },
       true},
  };
  return c;
}

// ---- running a case ----
using Trajectory = std::vector<Values>;

// The parameters after each of kSteps calls of step(params, state, grads) -> (params, state).
template <class StepFn>
Trajectory drive(const optim::Optimizer& opt, nx::DType dt, StepFn&& step) {
  const Problem pr = problem(dt);
  Params p = pr.p0;
  optim::State s = opt.init(p);
  Trajectory out{values_of(p)};
  for (int i = 0; i < kSteps; ++i) {
    Params g = gradients(p, pr);
    std::tie(p, s) = step(p, s, g);
    for (const auto& [name, x] : p) EXPECT_EQ(x.dtype(), dt) << name;
    out.push_back(values_of(p));
  }
  EXPECT_EQ(s.at("count").item<int64_t>(), kSteps);
  return out;
}

std::pair<Params, optim::State> eager_step(const optim::Optimizer& opt, const Params& p, const optim::State& s,
                                           const Params& g) {
  auto [u, next] = opt.update(g, s, p);
  return {optim::apply_updates(p, u), next};
}

enum class Mode { eager, jit, jit_donate };

Trajectory run(const optim::Optimizer& opt, nx::DType dt, Mode mode) {
  auto fn = [opt](const Params& p, const optim::State& s, const Params& g) { return eager_step(opt, p, s, g); };
  if (mode == Mode::eager) return drive(opt, dt, fn);
  auto jitted = nx::jit(fn, mode == Mode::jit_donate ? nx::JitOptions{.donate = {0, 1}} : nx::JitOptions{});
  Trajectory t =
      drive(opt, dt, [&](const Params& p, const optim::State& s, const Params& g) { return jitted(p, s, g); });
  // The step count is a tensor in the state, so every step reuses the first compile.
  EXPECT_EQ(jitted.stats().compiles, 1);
  return t;
}

struct Errors {
  double abs = 0, rel = 0;
};
Errors expect_trajectory(const std::string& name, const Trajectory& got, nx::DType dt, const std::string& what,
                         bool scheduled = false) {
  SCOPED_TRACE(name + " " + what);
  const nx::Tensor& want_t = golden().at("traj." + name);
  const Values want = want_t.to_vector<double>();
  const size_t width = want.size() / (kSteps + 1);
  EXPECT_EQ(want_t.shape(), nx::Shape({kSteps + 1, static_cast<int64_t>(width)}));
  EXPECT_EQ(got.size(), static_cast<size_t>(kSteps + 1));
  const Tol tol = tol_for(dt, scheduled);
  Errors e;
  int reported = 0;
  for (size_t step = 0; step < got.size(); ++step) {
    for (size_t k = 0; k < width; ++k) {
      const double w = want[step * width + k], g = got[step][k];
      const double err = std::fabs(g - w);
      e.abs = std::max(e.abs, err);
      e.rel = std::max(e.rel, err / std::max(std::fabs(w), 1e-3));
      if (!(err <= tol.atol + tol.rtol * std::fabs(w)) && reported++ < 5)
        ADD_FAILURE() << "step " << step << " element " << k << ": got " << g << ", want " << w;
    }
  }
  if (std::getenv("NX_OPTIM_VERBOSE"))
    std::cout << "  " << name << " " << what << ": max abs error " << e.abs << ", max rel error " << e.rel << "\n";
  return e;
}

class OptimGolden : public ::testing::TestWithParam<Case> {};

TEST_P(OptimGolden, F64Eager) {
  const Case& c = GetParam();
  expect_trajectory(c.name, run(c.make(), nx::f64, Mode::eager), nx::f64, "f64 eager", c.scheduled);
}
TEST_P(OptimGolden, F32Eager) {
  const Case& c = GetParam();
  expect_trajectory(c.name, run(c.make(), nx::f32, Mode::eager), nx::f32, "f32 eager");
}
TEST_P(OptimGolden, F32Jit) {
  const Case& c = GetParam();
  expect_trajectory(c.name, run(c.make(), nx::f32, Mode::jit), nx::f32, "f32 jit");
}
TEST_P(OptimGolden, F32JitDonating) {
  const Case& c = GetParam();
  expect_trajectory(c.name, run(c.make(), nx::f32, Mode::jit_donate), nx::f32, "f32 jit donating");
}

INSTANTIATE_TEST_SUITE_P(Optim, OptimGolden, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case>& info) { return std::string(info.param.name); });

// Every trajectory in the golden file has a case here (nothing generated goes untested).
TEST(OptimGoldenFile, EveryTrajectoryHasACase) {
  std::set<std::string> names;
  for (const Case& c : cases()) names.insert(c.name);
  int n = 0;
  for (const auto& [key, value] : golden()) {
    if (key.rfind("traj.", 0) != 0) continue;
    ++n;
    EXPECT_TRUE(names.count(key.substr(5))) << key << " has no case in optim_test.cpp";
  }
  EXPECT_EQ(n, static_cast<int>(cases().size()));
}

// ---- schedules ----
struct ScheduleCase {
  const char* name;
  std::function<optim::Schedule()> make;
};
const std::vector<ScheduleCase>& schedule_cases() {
  static const std::vector<ScheduleCase> c = {
      {"constant", [] { return optim::constant(0.3); }},
      {"exponential", [] { return optim::exponential_decay(1.0, {.transition_steps = 5, .decay_rate = 0.5}); }},
      {"exponential_staircase",
       [] { return optim::exponential_decay(1.0, {.transition_steps = 5, .decay_rate = 0.5, .staircase = true}); }},
      {"exponential_begin_end",
       [] {
         return optim::exponential_decay(
             1.0, {.transition_steps = 4, .decay_rate = 0.5, .transition_begin = 3, .end_value = 0.2});
       }},
      {"exponential_growth",
       [] { return optim::exponential_decay(0.5, {.transition_steps = 10, .decay_rate = 1.5, .end_value = 1.0}); }},
      {"polynomial", [] { return optim::polynomial_decay(1.0, 0.1, 20, {.power = 2, .transition_begin = 5}); }},
      {"linear", [] { return optim::polynomial_decay(0.0, 1.0, 30); }},
      {"cosine", [] { return optim::cosine_decay(0.5, 30); }},
      {"cosine_alpha_exponent", [] { return optim::cosine_decay(0.5, 30, {.alpha = 0.1, .exponent = 2}); }},
      {"warmup_cosine", [] { return optim::linear_warmup(10, optim::cosine_decay(1.0, 20), 0.1); }},
      {"piecewise",
       [] {
         return optim::piecewise_constant(1.0, {{5, 0.5}, {10, 0.1}, {15, 2.0}});
       }},
  };
  return c;
}

class OptimSchedule : public ::testing::TestWithParam<ScheduleCase> {};

TEST_P(OptimSchedule, MatchesOptaxEagerAndJitted) {
  const ScheduleCase& c = GetParam();
  const optim::Schedule s = c.make();
  const Values want = golden().at(std::string("sched.") + c.name).to_vector<double>();
  ASSERT_EQ(want.size(), static_cast<size_t>(kScheduleSteps + 1));
  auto jitted = nx::jit([&s](const nx::Tensor& step) { return s(step); });
  for (int step = 0; step <= kScheduleSteps; ++step) {
    const nx::Tensor count = nx::scalar(step, nx::i32);
    const nx::Tensor eager = s(count);
    EXPECT_EQ(eager.dtype(), nx::f32);
    EXPECT_EQ(eager.rank(), 0);
    const double tol = 1e-6 * std::max(1.0, std::fabs(want[step]));
    EXPECT_NEAR(eager.item<double>(), want[step], tol) << c.name << " at step " << step;
    EXPECT_NEAR(jitted(count).item<double>(), want[step], tol) << c.name << " jitted at step " << step;
  }
  EXPECT_EQ(jitted.stats().compiles, 1);
  // Any numeric step works: i64, f32, a weakly typed number.
  EXPECT_NEAR(s(nx::scalar(7, nx::i64)).item<double>(), want[7], 1e-6);
  EXPECT_NEAR(s(nx::scalar(7.0, nx::f32)).item<double>(), want[7], 1e-6);
  EXPECT_NEAR(s(7).item<double>(), want[7], 1e-6);
}

INSTANTIATE_TEST_SUITE_P(Optim, OptimSchedule, ::testing::ValuesIn(schedule_cases()),
                         [](const ::testing::TestParamInfo<ScheduleCase>& info) {
                           return std::string(info.param.name);
                         });

TEST(OptimGoldenFile, EveryScheduleHasACase) {
  std::set<std::string> names;
  for (const ScheduleCase& c : schedule_cases()) names.insert(c.name);
  int n = 0;
  for (const auto& [key, value] : golden()) {
    if (key.rfind("sched.", 0) != 0) continue;
    ++n;
    EXPECT_TRUE(names.count(key.substr(6))) << key << " has no case in optim_test.cpp";
  }
  EXPECT_EQ(n, static_cast<int>(schedule_cases().size()));
}

// ---- a whole training step under one jit ----
TEST(Optim, WholeTrainingStepJitsWithGradInside) {
  const Problem pr = problem(nx::f32);
  const optim::Optimizer opt = optim::adam(0.05);
  auto train_step = nx::jit(
      [&](const Params& p, const optim::State& s) {
        auto [value, g] = nx::value_and_grad([&](const Params& q) { return loss(q, pr); })(p);
        auto [u, next] = opt.update(g, s, p);
        return std::tuple{optim::apply_updates(p, u), next, value};
      },
      {.donate = {0, 1}});
  Params p = pr.p0;
  optim::State s = opt.init(p);
  Trajectory t{values_of(p)};
  nx::Tensor first_loss, last_loss;
  for (int i = 0; i < kSteps; ++i) {
    nx::Tensor value;
    std::tie(p, s, value) = train_step(p, s);
    if (i == 0) first_loss = value;
    last_loss = value;
    t.push_back(values_of(p));
  }
  EXPECT_EQ(train_step.stats().compiles, 1);
  EXPECT_LT(last_loss.item<double>(), first_loss.item<double>());
  expect_trajectory("adam", t, nx::f32, "jit with grad inside");
}

// ---- parameter trees other than a map ----
struct Model {
  nx::Tensor a, b, c;
  std::string label;  // static: part of the structure
};
NX_TREE(Model, a, b, c, label)

TEST(Optim, AnyTreeGivesTheSameTrajectory) {
  const Problem pr = problem(nx::f32);
  const optim::Optimizer opt = optim::nadam(0.05);
  const Trajectory want = run(opt, nx::f32, Mode::eager);

  Model m{pr.p0.at("a"), pr.p0.at("b"), pr.p0.at("c"), "model"};
  std::vector<nx::Tensor> v{pr.p0.at("a"), pr.p0.at("b"), pr.p0.at("c")};
  optim::State sm = opt.init(m), sv = opt.init(v);
  for (int i = 0; i < kSteps; ++i) {
    Model gm{gradient(m.a, pr.target.at("a"), pr.weight.at("a")), gradient(m.b, pr.target.at("b"), pr.weight.at("b")),
             gradient(m.c, pr.target.at("c"), pr.weight.at("c")), "model"};
    auto [um, nm] = opt.update(gm, sm, m);
    EXPECT_EQ(um.label, "model");
    m = optim::apply_updates(m, um);
    sm = nm;
    std::vector<nx::Tensor> gv;
    for (size_t k = 0; k < v.size(); ++k)
      gv.push_back(gradient(v[k], pr.target.at(shapes()[k].first), pr.weight.at(shapes()[k].first)));
    auto [uv, nv] = opt.update(gv, sv, v);
    v = optim::apply_updates(v, uv);
    sv = nv;
  }
  const Values got_m = values_of({{"a", m.a}, {"b", m.b}, {"c", m.c}});
  const Values got_v = values_of({{"a", v[0]}, {"b", v[1]}, {"c", v[2]}});
  EXPECT_EQ(got_m, want.back());
  EXPECT_EQ(got_v, want.back());
  EXPECT_EQ(m.label, "model");
}

// ---- dtypes ----
TEST(Optim, Bf16ParametersStayBf16WithF32State) {
  const Problem pr32 = problem(nx::f32);
  const optim::Optimizer opt = optim::adam(0.05, {.amsgrad = true});
  Params p;
  for (const auto& [name, x] : pr32.p0) p[name] = nx::as_type(x, nx::bf16);
  optim::State s = opt.init(p);
  for (const auto& [key, value] : s) EXPECT_EQ(value.dtype(), key == "count" ? nx::i32 : nx::f32) << key;

  Trajectory t{values_of(p)};
  for (int i = 0; i < kSteps; ++i) {
    Params g;
    for (const auto& [name, x] : p)
      g[name] = nx::as_type(gradient(nx::as_type(x, nx::f32), pr32.target.at(name), pr32.weight.at(name)), nx::bf16);
    // The bf16 step is the f32 step on the same (widened) values, rounded once to bf16.
    Params p32, g32;
    for (const auto& [name, x] : p) {
      p32[name] = nx::as_type(x, nx::f32);
      g32[name] = nx::as_type(g.at(name), nx::f32);
    }
    auto [u32, s32] = opt.update(g32, s, p32);
    auto [u, next] = opt.update(g, s, p);
    for (const auto& [name, x] : u) {
      EXPECT_EQ(x.dtype(), nx::bf16) << name;
      EXPECT_EQ(x.to_vector<double>(), nx::as_type(u32.at(name), nx::bf16).to_vector<double>()) << name;
    }
    for (const auto& [key, value] : next) EXPECT_EQ(value.to_vector<double>(), s32.at(key).to_vector<double>()) << key;
    p = optim::apply_updates(p, u);
    s = next;
    for (const auto& [name, x] : p) EXPECT_EQ(x.dtype(), nx::bf16) << name;
    t.push_back(values_of(p));
  }
  // And the trajectory follows PyTorch's f64 one within bf16 rounding.
  const Trajectory ref = run(optim::adam(0.05, {.amsgrad = true}), nx::f64, Mode::eager);
  double worst = 0;
  for (size_t step = 0; step < t.size(); ++step)
    for (size_t k = 0; k < t[step].size(); ++k) worst = std::max(worst, std::fabs(t[step][k] - ref[step][k]));
  EXPECT_LT(worst, 0.05);
}

TEST(Optim, F16ParametersAndJit) {
  const Problem pr = problem(nx::f32);
  const optim::Optimizer opt = optim::chain({optim::clip_by_global_norm(1.0), optim::rmsprop(1e-2, {.momentum = 0.5})});
  Params p;
  for (const auto& [name, x] : pr.p0) p[name] = nx::as_type(x, nx::f16);
  optim::State s = opt.init(p);
  auto step =
      nx::jit([&opt](const Params& p, const optim::State& s, const Params& g) { return eager_step(opt, p, s, g); },
              {.donate = {0, 1}});
  for (int i = 0; i < 5; ++i) {
    Params g;
    for (const auto& [name, x] : p)
      g[name] = nx::as_type(gradient(nx::as_type(x, nx::f32), pr.target.at(name), pr.weight.at(name)), nx::f16);
    std::tie(p, s) = step(p, s, g);
    for (const auto& [name, x] : p) EXPECT_EQ(x.dtype(), nx::f16);
    EXPECT_EQ(s.at("1.nu.0").dtype(), nx::f32);
  }
  EXPECT_EQ(step.stats().compiles, 1);
}

// ---- state layout, chain, transforms ----
std::vector<std::string> keys_of(const optim::State& s) {
  std::vector<std::string> k;
  for (const auto& [key, value] : s) k.push_back(key);
  return k;
}

TEST(Optim, StateKeysAndCount) {
  const Params p = problem(nx::f32).p0;
  using K = std::vector<std::string>;
  EXPECT_EQ(keys_of(optim::sgd(0.1).init(p)), K({"count"}));
  EXPECT_EQ(keys_of(optim::sgd(0.1, {.momentum = 0.9}).init(p)),
            K({"count", "momentum.0", "momentum.1", "momentum.2"}));
  EXPECT_EQ(keys_of(optim::adam().init(p)), K({"count", "mu.0", "mu.1", "mu.2", "nu.0", "nu.1", "nu.2"}));
  EXPECT_EQ(keys_of(optim::nadam().init(p)),
            K({"count", "mu.0", "mu.1", "mu.2", "mu_product", "nu.0", "nu.1", "nu.2"}));
  const optim::Optimizer c = optim::chain({optim::clip_by_global_norm(1.0), optim::adam(), optim::scale(0.5)});
  EXPECT_EQ(c.name(), "chain(clip_by_global_norm, adam, scale)");
  EXPECT_EQ(keys_of(c.init(p)), K({"1.mu.0", "1.mu.1", "1.mu.2", "1.nu.0", "1.nu.1", "1.nu.2", "count"}));
  const optim::Optimizer nested =
      optim::chain({optim::chain({optim::clip(1.0), optim::sgd(0.1, {.momentum = 0.9})}), optim::adagrad()});
  EXPECT_EQ(keys_of(nested.init(p)),
            K({"0.1.momentum.0", "0.1.momentum.1", "0.1.momentum.2", "1.sum.0", "1.sum.1", "1.sum.2", "count"}));

  optim::State s = optim::adagrad(0.1, {.initial_accumulator_value = 0.25}).init(p);
  EXPECT_EQ(s.at("count").dtype(), nx::i32);
  EXPECT_EQ(s.at("count").item<int>(), 0);
  EXPECT_EQ(s.at("sum.0").shape(), nx::Shape({2, 3}));
  EXPECT_EQ(s.at("sum.2").shape(), nx::Shape{});
  EXPECT_EQ(s.at("sum.1").to_vector<double>(), Values(4, 0.25));
  // Rates: any number, a schedule, a lambda.
  EXPECT_EQ(optim::sgd(1).name(), "sgd");
  EXPECT_EQ(optim::adam(0.1f).name(), "adam");
  EXPECT_EQ(optim::adamw(optim::constant(0.1)).name(), "adamw");
  EXPECT_EQ(optim::rmsprop([](const nx::Tensor& step) { return 0.1 / (step + 1); }).name(), "rmsprop");
}

// A schedule sees the number of updates applied before the current one: 0 at the first.
TEST(Optim, ScheduleReadsTheCountBeforeTheUpdate) {
  const optim::Optimizer o = optim::scale([](const nx::Tensor& step) { return nx::as_type(step, nx::f32) + 1.0; });
  std::vector<nx::Tensor> p{nx::ones({2})};
  optim::State s = o.init(p);
  for (int i = 0; i < 3; ++i) {
    std::vector<nx::Tensor> u = o.update_leaves({nx::full({2}, 2.0)}, s, p);
    EXPECT_EQ(u[0].to_vector<double>(), Values(2, 2.0 * (i + 1)));
    EXPECT_EQ(s.at("count").item<int>(), i + 1);
  }
}

TEST(Optim, ClipAndGlobalNorm) {
  std::vector<nx::Tensor> p{nx::zeros({2}), nx::zeros({1})};
  auto once = [&](const optim::Optimizer& o, std::vector<nx::Tensor> g) {
    optim::State s = o.init(p);
    return o.update_leaves(g, s, p);
  };
  // Global norm 5 over both leaves: scaled to 2.
  auto u = once(optim::clip_by_global_norm(2.0), {nx::tensor({3.0, 0.0}), nx::tensor({4.0})});
  EXPECT_NEAR(u[0].to_vector<double>()[0], 1.2, 1e-6);
  EXPECT_NEAR(u[1].to_vector<double>()[0], 1.6, 1e-6);
  // Below the threshold: unchanged.
  u = once(optim::clip_by_global_norm(2.0), {nx::tensor({0.3, 0.0}), nx::tensor({0.4})});
  EXPECT_EQ(u[0].to_vector<float>(), std::vector<float>({0.3f, 0.0f}));
  EXPECT_EQ(u[1].to_vector<float>(), std::vector<float>({0.4f}));
  u = once(optim::clip(0.5), {nx::tensor({3.0, -0.25}), nx::tensor({-4.0})});
  EXPECT_EQ(u[0].to_vector<double>(), Values({0.5, -0.25}));
  EXPECT_EQ(u[1].to_vector<double>(), Values({-0.5}));
  // add_decayed_weights then scale: plain SGD with L2.
  std::vector<nx::Tensor> q{nx::tensor({1.0, 2.0})};
  const optim::Optimizer o = optim::chain({optim::add_decayed_weights(0.5), optim::scale(-0.1)});
  optim::State s = o.init(q);
  u = o.update_leaves({nx::tensor({1.0, 1.0})}, s, q);
  EXPECT_NEAR(u[0].to_vector<double>()[0], -0.15, 1e-7);
  EXPECT_NEAR(u[0].to_vector<double>()[1], -0.2, 1e-7);
}

// Saving the state in a checkpoint and resuming continues the same trajectory.
TEST(Optim, StateRoundTripsThroughACheckpoint) {
  const Problem pr = problem(nx::f32);
  const optim::Optimizer opt = optim::chain({optim::clip_by_global_norm(1.0), optim::adamw(0.05, {.amsgrad = true})});
  Params p = pr.p0;
  optim::State s = opt.init(p);
  for (int i = 0; i < 5; ++i) std::tie(p, s) = eager_step(opt, p, s, gradients(p, pr));
  nx::io::Checkpoint c;
  c.params = p;
  c.optimizer_state = s;
  c.step = 5;
  nx::io::Checkpoint r = nx::io::decode_checkpoint(nx::io::encode_checkpoint(c));
  Params p2 = r.params;
  optim::State s2 = r.optimizer_state;
  for (int i = 0; i < 5; ++i) {
    std::tie(p, s) = eager_step(opt, p, s, gradients(p, pr));
    std::tie(p2, s2) = eager_step(opt, p2, s2, gradients(p2, pr));
  }
  EXPECT_EQ(values_of(p2), values_of(p));
  EXPECT_EQ(s2.at("count").item<int>(), 10);
}

// ---- errors ----
using nx_test::expect_op_error;

TEST(OptimErrors, BadArguments) {
  expect_op_error<nx::ValueError>([] { optim::sgd(-0.1); }, "sgd", "learning rate");
  expect_op_error<nx::ValueError>([] { optim::adam(std::nan("")); }, "adam", "learning rate");
  expect_op_error<nx::ValueError>([] { optim::adam(1e-3, {.eps = 0}); }, "adam", "eps");
  expect_op_error<nx::ValueError>([] { optim::adamw(1e-3, {.eps = -1e-8}); }, "adamw", "eps");
  expect_op_error<nx::ValueError>([] { optim::adam(1e-3, {.b1 = 1.0}); }, "adam", "b1");
  expect_op_error<nx::ValueError>([] { optim::nadam(1e-3, {.b2 = -0.5}); }, "nadam", "b2");
  expect_op_error<nx::ValueError>([] { optim::sgd(0.1, {.nesterov = true}); }, "sgd", "nesterov");
  expect_op_error<nx::ValueError>([] { optim::sgd(0.1, {.momentum = -0.9}); }, "sgd", "momentum");
  expect_op_error<nx::ValueError>([] { optim::rmsprop(0.1, {.alpha = 1.5}); }, "rmsprop", "alpha");
  expect_op_error<nx::ValueError>([] { optim::adagrad(0.1, {.eps = 0}); }, "adagrad", "eps");
  expect_op_error<nx::ValueError>([] { optim::adadelta(1.0, {.rho = 2}); }, "adadelta", "rho");
  expect_op_error<nx::ValueError>([] { optim::lamb(1e-3, {.weight_decay = -1}); }, "lamb", "weight_decay");
  expect_op_error<nx::ValueError>([] { optim::adabelief(1e-3, {.eps = 0}); }, "adabelief", "eps");
  expect_op_error<nx::ValueError>([] { optim::radam(optim::Schedule{}); }, "radam", "empty schedule");
  expect_op_error<nx::ValueError>([] { optim::clip(-1); }, "clip", "max_abs");
  expect_op_error<nx::ValueError>([] { optim::clip_by_global_norm(0); }, "clip_by_global_norm", "max_norm");
  expect_op_error<nx::ValueError>([] { optim::add_decayed_weights(-1e-4); }, "add_decayed_weights", "weight_decay");
  expect_op_error<nx::ValueError>([] { optim::cosine_decay(1.0, 0); }, "cosine_decay", "decay_steps");
  expect_op_error<nx::ValueError>([] { optim::exponential_decay(1.0, {.transition_steps = 0, .decay_rate = 0.5}); },
                                  "exponential_decay", "transition_steps");
  expect_op_error<nx::ValueError>([] { optim::exponential_decay(1.0, {.transition_steps = 5}); }, "exponential_decay",
                                  "decay_rate");
  expect_op_error<nx::ValueError>([] { optim::polynomial_decay(1.0, 0.0, -3); }, "polynomial_decay",
                                  "transition_steps");
  expect_op_error<nx::ValueError>([] { optim::piecewise_constant(1.0, {{10, -0.5}}); }, "piecewise_constant", "scales");
  expect_op_error<nx::ValueError>([] { optim::linear_warmup(-1, optim::constant(1.0)); }, "linear_warmup",
                                  "warmup_steps");
}

TEST(OptimErrors, GradientsAndParametersMustMatch) {
  const Params p = problem(nx::f32).p0;
  const optim::Optimizer opt = optim::adam(1e-3);
  const optim::State s = opt.init(p);
  Params g = gradients(p, problem(nx::f32));

  Params wrong_shape = g;
  wrong_shape["b"] = nx::zeros({5});
  expect_op_error<nx::ShapeError>([&] { opt.update(wrong_shape, s, p); }, "adam", "gradient 1 has shape (5)");
  Params wrong_dtype = g;
  wrong_dtype["a"] = nx::zeros({2, 3}, nx::f64);
  expect_op_error<nx::DTypeError>([&] { opt.update(wrong_dtype, s, p); }, "adam", "gradient 0 has dtype f64");
  Params missing = g;
  missing.erase("c");
  expect_op_error<nx::ValueError>([&] { opt.update(missing, s, p); }, "adam", "differ in structure");
  Params renamed = g;
  renamed["d"] = renamed.at("c");
  renamed.erase("c");
  expect_op_error<nx::ValueError>([&] { opt.update(renamed, s, p); }, "adam", "differ in structure");
  expect_op_error<nx::DTypeError>(
      [&] {
        opt.init(Params{{"steps", nx::scalar(3, nx::i64)}});
      },
      "adam", "parameter 0 has dtype i64");
  std::vector<nx::Tensor> leaves{p.at("a")};
  optim::State ls = opt.init(leaves);
  expect_op_error<nx::ValueError>([&] { opt.update_leaves({}, ls, leaves); }, "adam",
                                  "got 0 gradients for 1 parameters");
  Params bad_update = g;
  bad_update["c"] = nx::zeros({1});
  expect_op_error<nx::ShapeError>([&] { optim::apply_updates(p, bad_update); }, "apply_updates",
                                  "update 2 has shape (1)");
}

TEST(OptimErrors, StateMustBeThisOptimizersForTheseParameters) {
  const Problem pr = problem(nx::f32);
  const Params& p = pr.p0;
  const Params g = gradients(p, pr);
  const optim::Optimizer adam = optim::adam(1e-3);

  const optim::State from_sgd = optim::sgd(0.1, {.momentum = 0.9}).init(p);
  expect_op_error<nx::ValueError>([&] { adam.update(g, from_sgd, p); }, "adam", "no entry \"mu.0\"");
  const optim::State from_adam = adam.init(p);
  expect_op_error<nx::ValueError>([&] { optim::sgd(0.1).update(g, from_adam, p); }, "sgd",
                                  "entry \"mu.0\" this optimizer does not keep");
  Params other = p;
  other["a"] = nx::zeros({3, 2});
  expect_op_error<nx::ShapeError>([&] { adam.update(g, adam.init(other), p); }, "adam",
                                  "state entry \"mu.0\" has shape (3, 2)");
  optim::State f64_state = adam.init(p);
  f64_state["nu.1"] = nx::zeros({4}, nx::f64);
  expect_op_error<nx::DTypeError>([&] { adam.update(g, f64_state, p); }, "adam", "\"nu.1\" has dtype f64");
  optim::State no_count = adam.init(p);
  no_count.erase("count");
  expect_op_error<nx::ValueError>([&] { adam.update(g, no_count, p); }, "adam", "no \"count\"");
  // A chain names the part that keeps the entry.
  const optim::Optimizer c = optim::chain({optim::clip(1.0), optim::adam()});
  expect_op_error<nx::ValueError>([&] { c.update(g, adam.init(p), p); }, "chain(clip, adam)", "(kept by adam)");

  // A failed update leaves the state as it was.
  std::vector<nx::Tensor> leaves{p.at("a"), p.at("b")};
  optim::State s = adam.init(leaves);
  const optim::State before = s;
  EXPECT_THROW(adam.update_leaves({g.at("a"), nx::zeros({7})}, s, leaves), nx::ShapeError);
  EXPECT_EQ(keys_of(s), keys_of(before));
  for (const auto& [key, value] : s) EXPECT_EQ(value.impl(), before.at(key).impl()) << key;
}

}  // namespace
