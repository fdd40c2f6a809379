// The op table (in the style of PyTorch's OpInfo): one row per public op, driven over every
// golden case tests/golden/generate.py wrote for it (dtypes x sample shapes x NaN/Inf).
// For every case: eager matches the golden value within the dtype's tolerance, jit matches
// eager exactly, and a second jit call with the same signature does not recompile.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <set>

#include "nx/nx.hpp"

namespace {

using Inputs = std::vector<nx::Tensor>;
using Args = std::vector<int64_t>;
using Fn = std::function<nx::Tensor(const Inputs&, const Args&)>;

enum class Tol { exact, approx };  // approx: transcendental or reassociated math

struct OpInfo {
  std::string name;  // tests/golden/ops/<name>.bundle
  Tol tol;
  Fn fn;
};

// ---- helpers reading the int64 args of a case ----
std::vector<int> ints(const Args& a, size_t from = 0) { return {a.begin() + static_cast<long>(from), a.end()}; }
// [len, items..., len, items...] -> lists
std::vector<std::vector<int64_t>> lists(const Args& a) {
  std::vector<std::vector<int64_t>> out;
  for (size_t i = 0; i < a.size();) {
    auto n = static_cast<size_t>(a[i++]);
    out.emplace_back(a.begin() + static_cast<long>(i), a.begin() + static_cast<long>(i + n));
    i += n;
  }
  return out;
}
std::vector<int> to_int(const std::vector<int64_t>& v) { return {v.begin(), v.end()}; }
nx::Axes axes_from(const Args& a, size_t from) {
  return a.size() > from ? nx::Axes(ints(a, from)) : nx::Axes();
}
nx::ReduceOpts reduce_opts(const Args& a) { return {.axes = axes_from(a, 1), .keep_axes = a[0] != 0}; }

// The order of ALL in generate.py.
std::vector<std::pair<int64_t, int64_t>> pairs(const std::vector<int64_t>& lo, const std::vector<int64_t>& hi) {
  std::vector<std::pair<int64_t, int64_t>> p;
  for (size_t i = 0; i < lo.size(); ++i) p.emplace_back(lo[i], hi[i]);
  return p;
}
nx::Padding padding_of(const std::vector<std::vector<int64_t>>& l, size_t lo, size_t mode) {
  switch (l[mode][0]) {
    case 1: return nx::PaddingMode::valid;
    case 2: return nx::PaddingMode::same;
    default: return pairs(l[lo], l[lo + 1]);
  }
}

const nx::DType kAll[] = {nx::boolean, nx::u8, nx::u32, nx::i32, nx::i64, nx::f32, nx::f64, nx::f16, nx::bf16};

#define UNARY(fn, tol) {#fn, Tol::tol, [](const Inputs& in, const Args&) { return nx::fn(in[0]); }}
#define BINARY(fn, tol) {#fn, Tol::tol, [](const Inputs& in, const Args&) { return nx::fn(in[0], in[1]); }}
#define REDUCE(fn) {#fn, Tol::exact, [](const Inputs& in, const Args& a) { return nx::fn(in[0], reduce_opts(a)); }}
#define ARG(fn)                                                                                          \
  {#fn, Tol::exact, [](const Inputs& in, const Args& a) {                                                \
     return nx::fn(in[0], {.axis = a.size() > 1 ? std::optional<int>(static_cast<int>(a[1])) : std::nullopt, \
                           .keep_axes = !a.empty() && a[0] != 0});                                       \
   }}
// args: window, strides, lo, hi, window dilations, [padding mode]
#define WINDOW(fn)                                                                              \
  {#fn, Tol::exact, [](const Inputs& in, const Args& a) {                                       \
     auto l = lists(a);                                                                         \
     return nx::fn(in[0], l[0], {.strides = l[1], .padding = padding_of(l, 2, 5), .window_dilations = l[4]}); \
   }}
#define WINDOW_SCATTER(fn)                                                                      \
  {#fn, Tol::exact, [](const Inputs& in, const Args& a) {                                       \
     auto l = lists(a);                                                                         \
     return nx::fn(in[0], in[1], in[2], l[0], {.strides = l[1], .padding = padding_of(l, 2, 5), .window_dilations = l[4]}); \
   }}
#define LINALG1(fn) {#fn, Tol::approx, [](const Inputs& in, const Args&) { return nx::linalg::fn(in[0]); }}
#define CUMULATIVE(fn)                                                                         \
  {#fn, Tol::exact, [](const Inputs& in, const Args& a) {                                      \
     return nx::fn(in[0], {.axis = static_cast<int>(a[0]), .reverse = a[1] != 0});             \
   }}

const std::vector<OpInfo>& op_table() {
  static const std::vector<OpInfo> table = {
      UNARY(negate, exact), UNARY(abs, exact), UNARY(sign, exact), UNARY(floor, exact), UNARY(ceil, exact),
      UNARY(round, exact), UNARY(exp, approx), UNARY(expm1, approx), UNARY(log, approx), UNARY(log1p, approx),
      UNARY(sqrt, exact), UNARY(rsqrt, approx), UNARY(cbrt, approx), UNARY(sin, approx), UNARY(cos, approx),
      UNARY(tan, approx), UNARY(asin, approx), UNARY(acos, approx), UNARY(atan, approx), UNARY(sinh, approx),
      UNARY(cosh, approx), UNARY(tanh, approx), UNARY(asinh, approx), UNARY(acosh, approx), UNARY(atanh, approx),
      UNARY(sigmoid, approx), UNARY(erf, approx), UNARY(erfc, approx), UNARY(erf_inv, approx),
      UNARY(is_nan, exact), UNARY(is_infinity, exact), UNARY(logical_not, exact), UNARY(bitwise_not, exact),
      UNARY(count_leading_zeros, exact), UNARY(population_count, exact),
      BINARY(add, exact), BINARY(subtract, exact), BINARY(multiply, exact), BINARY(divide, exact),
      BINARY(quotient, exact), BINARY(remainder, exact), {"remainder_int", Tol::exact, [](const Inputs& in, const Args&) {
        return nx::remainder(in[0], in[1]); }},
      BINARY(pow, approx), {"pow_int", Tol::exact, [](const Inputs& in, const Args&) { return nx::pow(in[0], in[1]); }},
      BINARY(max, exact), BINARY(min, exact), BINARY(atan2, approx), BINARY(equal, exact), BINARY(not_equal, exact),
      BINARY(less, exact), BINARY(less_equal, exact), BINARY(greater, exact), BINARY(greater_equal, exact),
      BINARY(logical_and, exact), BINARY(logical_or, exact), BINARY(logical_xor, exact), BINARY(bitwise_and, exact),
      BINARY(bitwise_or, exact), BINARY(bitwise_xor, exact), BINARY(left_shift, exact), BINARY(right_shift, exact),
      {"select", Tol::exact, [](const Inputs& in, const Args&) { return nx::select(in[0], in[1], in[2]); }},
      {"as_type", Tol::exact, [](const Inputs& in, const Args& a) { return nx::as_type(in[0], kAll[a[0]]); }},
      {"bitcast", Tol::exact, [](const Inputs& in, const Args& a) { return nx::bitcast(in[0], kAll[a[0]]); }},
      REDUCE(sum), REDUCE(product), REDUCE(reduce_max), REDUCE(reduce_min), REDUCE(all), REDUCE(any),
      ARG(argmax), ARG(argmin),
      CUMULATIVE(cumulative_sum), CUMULATIVE(cumulative_product), CUMULATIVE(cumulative_max),
      CUMULATIVE(cumulative_min),
      {"reshape", Tol::exact, [](const Inputs& in, const Args& a) { return nx::reshape(in[0], nx::Shape(lists(a)[0])); }},
      {"transpose", Tol::exact, [](const Inputs& in, const Args& a) {
         auto perm = to_int(lists(a)[0]);
         return perm.empty() ? nx::transpose(in[0], {}) : nx::transpose(in[0], perm); }},
      {"broadcast", Tol::exact, [](const Inputs& in, const Args& a) {
         auto l = lists(a);
         return nx::broadcast(in[0], nx::Shape(l[0]), {.axes = to_int(l[1])}); }},
      {"squeeze", Tol::exact, [](const Inputs& in, const Args& a) { return nx::squeeze(in[0], axes_from(a, 0)); }},
      {"new_axis", Tol::exact, [](const Inputs& in, const Args& a) { return nx::new_axis(in[0], static_cast<int>(a[0])); }},
      {"slice", Tol::exact, [](const Inputs& in, const Args& a) {
         auto l = lists(a);  // the golden cases give XLA's extents; slice takes output lengths
         for (size_t i = 0; i < l[1].size(); ++i) l[1][i] = l[1][i] == 0 ? 0 : (l[1][i] - 1) / l[2][i] + 1;
         return nx::slice(in[0], l[0], l[1], {.strides = l[2]}); }},
      {"put_slice", Tol::exact, [](const Inputs& in, const Args& a) { return nx::put_slice(in[0], a, in[1]); }},
      {"pad", Tol::exact, [](const Inputs& in, const Args& a) {
         std::vector<nx::PadConfig> cfg;
         for (size_t i = 0; i + 2 < a.size(); i += 3) cfg.push_back({a[i], a[i + 1], a[i + 2]});
         return nx::pad(in[0], in[1], cfg); }},
      {"concatenate", Tol::exact, [](const Inputs& in, const Args& a) { return nx::concatenate(in, static_cast<int>(a[0])); }},
      {"stack", Tol::exact, [](const Inputs& in, const Args& a) { return nx::stack(in, static_cast<int>(a[0])); }},
      {"reverse", Tol::exact, [](const Inputs& in, const Args& a) {
         auto ax = to_int(lists(a)[0]);
         return nx::reverse(in[0], ax.empty() ? nx::Axes::none() : nx::Axes(ax)); }},
      {"tile", Tol::exact, [](const Inputs& in, const Args& a) { return nx::tile(in[0], a); }},
      {"take", Tol::exact, [](const Inputs& in, const Args& a) { return nx::take(in[0], in[1], static_cast<int>(a[0])); }},
      {"take_along_axis", Tol::exact, [](const Inputs& in, const Args& a) {
         return nx::take_along_axis(in[0], in[1], static_cast<int>(a[0])); }},
      {"gather", Tol::exact, [](const Inputs& in, const Args& a) { return nx::gather(in[0], in[1], {.axes = ints(a)}); }},
      {"indexed_add", Tol::exact, [](const Inputs& in, const Args& a) {
         return nx::indexed_add(in[0], in[1], in[2], {.axes = ints(a)}); }},
      {"indexed_put", Tol::exact, [](const Inputs& in, const Args& a) {
         return nx::indexed_put(in[0], in[1], in[2], {.axes = ints(a)}); }},
      {"dot_general", Tol::exact, [](const Inputs& in, const Args& a) {
         auto l = lists(a);
         return nx::dot_general(in[0], in[1], {.contract_a = to_int(l[0]), .contract_b = to_int(l[1]),
                                               .batch_a = to_int(l[2]), .batch_b = to_int(l[3])}); }},
      {"conv", Tol::exact, [](const Inputs& in, const Args& a) {
         auto l = lists(a);
         auto mode = l[5][2];
         nx::Padding pad = mode == 1 ? nx::Padding(nx::PaddingMode::valid) : nx::Padding(nx::PaddingMode::same);
         if (mode == 0) pad = pairs(l[1], l[2]);
         return nx::conv(in[0], in[1], {.strides = l[0], .padding = pad, .input_dilation = l[3],
                                        .kernel_dilation = l[4], .feature_group_size = l[5][0],
                                        .batch_group_size = l[5][1]}); }},
      WINDOW(window_sum), WINDOW(window_product), WINDOW(window_max), WINDOW(window_min),
      WINDOW_SCATTER(window_scatter_max), WINDOW_SCATTER(window_scatter_min),
      {"sort", Tol::exact, [](const Inputs& in, const Args& a) {
         return nx::sort(in[0], {.axis = static_cast<int>(a[0]), .direction = a[1] ? nx::Direction::desc : nx::Direction::asc}); }},
      {"argsort", Tol::exact, [](const Inputs& in, const Args& a) {
         return nx::argsort(in[0], {.axis = static_cast<int>(a[0]), .direction = a[1] ? nx::Direction::desc : nx::Direction::asc}); }},
      {"top_k", Tol::exact, [](const Inputs& in, const Args& a) { return nx::top_k(in[0], a[0]).first; }},
      {"top_k_indices", Tol::exact, [](const Inputs& in, const Args& a) { return nx::top_k(in[0], a[0]).second; }},
      {"while_loop", Tol::exact, [](const Inputs& in, const Args&) {
         return nx::while_loop(in[0], [](const nx::Tensor& x) { return nx::sum(x) < 100; },
                               [](const nx::Tensor& x) { return x * 2 + 1; }); }},
      {"cond", Tol::exact, [](const Inputs& in, const Args&) {
         return nx::cond(in[0], [&] { return in[1] * 2; }, [&] { return -in[1]; }); }},
      // linear algebra (Tol::approx: factorisations reassociate)
      LINALG1(cholesky), LINALG1(invert), LINALG1(determinant),
      {"triangular_solve", Tol::approx, [](const Inputs& in, const Args& a) {
         return nx::linalg::triangular_solve(in[0], in[1], {.left_side = a[0] != 0, .lower = a[1] != 0,
             .transform_a = a[2] ? nx::linalg::Transform::transpose : nx::linalg::Transform::none}); }},
      {"solve", Tol::approx, [](const Inputs& in, const Args&) { return nx::linalg::solve(in[0], in[1]); }},
      {"least_squares", Tol::approx, [](const Inputs& in, const Args&) {
         return nx::linalg::least_squares(in[0], in[1]); }},
      {"qr_q", Tol::approx, [](const Inputs& in, const Args& a) {
         return nx::linalg::qr(in[0], {.mode = a[0] ? nx::linalg::QrMode::complete : nx::linalg::QrMode::reduced}).first; }},
      {"qr_r", Tol::approx, [](const Inputs& in, const Args& a) {
         return nx::linalg::qr(in[0], {.mode = a[0] ? nx::linalg::QrMode::complete : nx::linalg::QrMode::reduced}).second; }},
      {"eigh_values", Tol::approx, [](const Inputs& in, const Args&) { return nx::linalg::eigh(in[0]).first; }},
      {"eigh_vectors", Tol::approx, [](const Inputs& in, const Args&) { return nx::linalg::eigh(in[0]).second; }},
      {"svd_values", Tol::approx, [](const Inputs& in, const Args&) { return std::get<1>(nx::linalg::svd(in[0])); }},
      {"svd_u", Tol::approx, [](const Inputs& in, const Args&) {
         return std::get<0>(nx::linalg::svd(in[0], {.full_matrices = false})); }},
      {"lu_p", Tol::approx, [](const Inputs& in, const Args&) { return std::get<0>(nx::linalg::lu(in[0])); }},
      {"lu_l", Tol::approx, [](const Inputs& in, const Args&) { return std::get<1>(nx::linalg::lu(in[0])); }},
      {"lu_u", Tol::approx, [](const Inputs& in, const Args&) { return std::get<2>(nx::linalg::lu(in[0])); }},
      {"norm", Tol::approx, [](const Inputs& in, const Args& a) {
         nx::linalg::NormOpts o{.axes = axes_from(a, 3), .keep_axes = a[2] != 0};
         switch (a[0]) {
           case 1: o.ord = static_cast<double>(a[1]) / 1000; break;
           case 2: o.ord = nx::linalg::fro; break;
           case 3: o.ord = nx::linalg::nuc; break;
           case 4: o.ord = nx::linalg::inf; break;
           case 5: o.ord = -nx::linalg::inf; break;
           default: break;
         }
         return nx::linalg::norm(in[0], o); }},
      // random numbers (args: the shape); exact: bitwise equal to jax.random
      {"random_bits", Tol::exact, [](const Inputs& in, const Args& a) { return nx::random::bits(in[0], nx::Shape(a)); }},
      {"random_uniform", Tol::exact, [](const Inputs& in, const Args& a) {
         return nx::random::uniform(in[0], nx::Shape(a)); }},
      {"random_randint", Tol::exact, [](const Inputs& in, const Args& a) {
         return nx::random::randint(in[0], nx::Shape(a), -5, 17, {.dtype = nx::i32}); }},
      {"random_bernoulli", Tol::exact, [](const Inputs& in, const Args& a) {
         return nx::random::bernoulli(in[0], 0.3, nx::Shape(a)); }},
      {"random_split", Tol::exact, [](const Inputs& in, const Args& a) { return nx::random::split(in[0], a[0]); }},
      {"random_shuffle", Tol::exact, [](const Inputs& in, const Args& a) {
         return nx::random::shuffle(in[0], nx::reshape(nx::iota({nx::Shape(a).size()}), nx::Shape(a))); }},
      UNARY(stop_grad, exact),
      // composites
      {"mean", Tol::exact, [](const Inputs& in, const Args& a) { return nx::mean(in[0], reduce_opts(a)); }},
      {"variance", Tol::exact, [](const Inputs& in, const Args& a) {
         return nx::variance(in[0], {.axes = axes_from(a, 2), .keep_axes = a[0] != 0, .ddof = a[1]}); }},
      {"standard_deviation", Tol::exact, [](const Inputs& in, const Args& a) {
         return nx::standard_deviation(in[0], {.axes = axes_from(a, 2), .keep_axes = a[0] != 0, .ddof = a[1]}); }},
      {"logsumexp", Tol::approx, [](const Inputs& in, const Args& a) { return nx::logsumexp(in[0], reduce_opts(a)); }},
      {"softmax", Tol::approx, [](const Inputs& in, const Args& a) {
         return nx::softmax(in[0], {.axis = static_cast<int>(a[0])}); }},
      {"log_softmax", Tol::approx, [](const Inputs& in, const Args& a) {
         return nx::log_softmax(in[0], {.axis = static_cast<int>(a[0])}); }},
      {"clip", Tol::exact, [](const Inputs& in, const Args&) { return nx::clip(in[0], in[1], in[2]); }},
      {"outer", Tol::exact, [](const Inputs& in, const Args&) { return nx::outer(in[0], in[1]); }},
      {"matmul", Tol::exact, [](const Inputs& in, const Args&) { return nx::matmul(in[0], in[1]); }},
      {"one_hot", Tol::exact, [](const Inputs& in, const Args& a) { return nx::one_hot(in[0], a[0]); }},
      {"einsum", Tol::exact, [](const Inputs& in, const Args& a) {
         static const char* specs[] = {"ij,jk->ik", "bij,bjk->bik", "ij,ij->", "i,j->ij", "ij->ji", "ijk->j",
                                       "ij,kj", "bhqd,bhkd->bhqk", "ik,kj->", "abc,cd->abd"};
         return in.size() == 1 ? nx::einsum(specs[a[0]], in[0]) : nx::einsum(specs[a[0]], in[0], in[1]); }},
  };
  return table;
}

// ---- golden bundles ----
struct Case {
  Inputs inputs;
  Args args;
  nx::Tensor expected;
};

std::map<std::string, Case> load_bundle(const std::string& name) {
  std::string path = std::string(NX_TEST_DATA_DIR) + "/ops/" + name + ".bundle";
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("missing golden bundle " + path + " (run tests/golden/generate.py)");
  std::vector<char> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::map<std::string, Case> cases;
  size_t pos = 0;
  auto take = [&](size_t n) {
    if (pos + n > bytes.size()) throw std::runtime_error("truncated bundle " + path);
    const char* p = bytes.data() + pos;
    pos += n;
    return p;
  };
  while (pos < bytes.size()) {
    uint32_t nlen;
    std::memcpy(&nlen, take(4), 4);
    std::string rec(take(nlen), nlen);
    uint64_t plen;
    std::memcpy(&plen, take(8), 8);
    const char* p = take(plen);
    nx::Tensor t = nx::io::decode_npy({reinterpret_cast<const std::byte*>(p), plen});
    size_t slash = rec.rfind('/');
    Case& c = cases[rec.substr(0, slash)];
    std::string part = rec.substr(slash + 1);
    if (part == "out") c.expected = t;
    else if (part == "args") c.args = t.to_vector<int64_t>();
    else c.inputs.push_back(t);
  }
  return cases;
}

struct Tolerance {
  double atol, rtol;
};
Tolerance tolerance(nx::DType t, Tol tol) {
  bool approx = tol == Tol::approx;
  if (t == nx::f64) return approx ? Tolerance{1e-7, 1e-7} : Tolerance{1e-7, 1e-7};
  if (t == nx::f32) return approx ? Tolerance{1e-3, 1e-3} : Tolerance{1e-5, 1.3e-6};
  if (t == nx::f16) return approx ? Tolerance{2e-3, 2e-3} : Tolerance{1e-3, 1e-3};
  return approx ? Tolerance{1.6e-2, 1.6e-2} : Tolerance{1e-2, 8e-3};  // bf16
}

// Empty when equal within tolerance; otherwise the first mismatch.
std::string compare(const nx::Tensor& got, const nx::Tensor& want, Tol tol, bool bitwise = false) {
  if (got.dtype() != want.dtype())
    return "dtype " + std::string(nx::name(got.dtype())) + " != " + std::string(nx::name(want.dtype()));
  if (got.shape() != want.shape()) return "shape " + got.shape().str() + " != " + want.shape().str();
  if (bitwise || !nx::is_float(got.dtype())) {
    size_t bytes = static_cast<size_t>(got.size()) * static_cast<size_t>(nx::item_size(got.dtype()));
    if (got.dtype() == nx::boolean || !nx::is_float(got.dtype()) || !bitwise) {
      if (bytes && std::memcmp(got.buffer()->data(), want.buffer()->data(), bytes) != 0) {
        auto g = got.to_vector<double>(), w = want.to_vector<double>();
        for (size_t i = 0; i < g.size(); ++i)
          if (g[i] != w[i]) return "element " + std::to_string(i) + ": " + std::to_string(g[i]) + " != " + std::to_string(w[i]);
        return "bytes differ";
      }
      return "";
    }
    auto g = got.to_vector<double>(), w = want.to_vector<double>();
    for (size_t i = 0; i < g.size(); ++i)
      if (!(g[i] == w[i] || (std::isnan(g[i]) && std::isnan(w[i]))))
        return "element " + std::to_string(i) + ": " + std::to_string(g[i]) + " != " + std::to_string(w[i]);
    return "";
  }
  Tolerance t = tolerance(got.dtype(), tol);
  auto g = got.to_vector<double>(), w = want.to_vector<double>();
  for (size_t i = 0; i < g.size(); ++i) {
    bool ok = std::isnan(w[i]) ? std::isnan(g[i])
              : std::isinf(w[i]) ? g[i] == w[i]
                                 : std::abs(g[i] - w[i]) <= t.atol + t.rtol * std::abs(w[i]);
    if (!ok) return "element " + std::to_string(i) + ": got " + std::to_string(g[i]) + ", want " + std::to_string(w[i]);
  }
  return "";
}

void PrintTo(const OpInfo& op, std::ostream* os) { *os << op.name; }

class OpTable : public ::testing::TestWithParam<OpInfo> {};

TEST_P(OpTable, EagerMatchesGoldenAndJitMatchesEager) {
  const OpInfo& op = GetParam();
  auto cases = load_bundle(op.name);
  ASSERT_FALSE(cases.empty());
  for (const auto& [name, c] : cases) {
    SCOPED_TRACE(op.name + " " + name);
    nx::Tensor eager;
    try {
      eager = op.fn(c.inputs, c.args);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "threw: " << e.what();
      continue;
    }
    std::string diff = compare(eager, c.expected, op.tol);
    EXPECT_EQ(diff, "") << "eager vs golden";
    Args args = c.args;
    auto jitted = nx::jit([&](const Inputs& in) { return op.fn(in, args); });
    nx::Tensor j = jitted(c.inputs);
    // Bitwise on interp; a backend that fuses (a softmax as one primitive) may round
    // differently, within the op's tolerance.
    bool bitwise = nx::default_backend().name() == "interp";
    EXPECT_EQ(compare(j, eager, op.tol, bitwise), "") << "jit vs eager";
    jitted(c.inputs);
    EXPECT_EQ(jitted.compiles(), 1) << "a second call with the same signature recompiled";
  }
}

INSTANTIATE_TEST_SUITE_P(Ops, OpTable, ::testing::ValuesIn(op_table()),
                         [](const ::testing::TestParamInfo<OpInfo>& p) { return p.param.name; });

// Every primitive is exercised by a row of the table, or by a named suite of its own.
TEST(OpTableCoverage, EveryPrimitiveHasARow) {
  std::set<nx::Op> seen;
  for (const OpInfo& op : op_table()) {
    for (const auto& [name, c] : load_bundle(op.name)) {
      Args args = c.args;
      auto jitted = nx::jit([&](const Inputs& in) { return op.fn(in, args); });
      for (const auto& n : jitted.graph(c.inputs).nodes) seen.insert(n->op);
    }
  }
  // Graph plumbing.
  const std::set<std::string> elsewhere = {
      "parameter", "constant", "iota",  // iota has no inputs: traced, it folds to a constant
      "custom_grad",                    // an identity forward; tests/grad_test.cpp checks it
      "host_callback"};                 // tests/debug_test.cpp
  for (int i = 0; i < nx::num_ops(); ++i) {
    auto op = static_cast<nx::Op>(i);
    std::string name(nx::op_name(op));
    if (!seen.count(op) && !elsewhere.count(name)) ADD_FAILURE() << "no op-table row exercises " << name;
  }
}

}  // namespace
