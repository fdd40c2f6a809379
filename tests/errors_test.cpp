// Bad inputs for every primitive of the core: the right nx::Error subclass, a message
// naming the op, and the caller's file:line. Also under jit (errors surface while tracing).
#include <gtest/gtest.h>

#include <functional>

#include "nx/nx.hpp"

namespace {

enum class Kind { shape, dtype, axis, value };

struct BadCall {
  const char* op;  // must appear as "[op]" in the message
  Kind kind;
  std::function<nx::Tensor()> call;
};

template <class E> bool is(const nx::Error& e) { return dynamic_cast<const E*>(&e) != nullptr; }

bool kind_matches(const nx::Error& e, Kind k) {
  switch (k) {
    case Kind::shape: return is<nx::ShapeError>(e);
    case Kind::dtype: return is<nx::DTypeError>(e);
    case Kind::axis: return is<nx::AxisError>(e);
    case Kind::value: return is<nx::ValueError>(e);
  }
  return false;
}

nx::Tensor f23() { return nx::iota({2, 3}, nx::f32); }
nx::Tensor i23() { return nx::iota({2, 3}, nx::i32); }
nx::Tensor b23() { return nx::equal(i23(), 1); }

const std::vector<BadCall>& bad_calls() {
  static const std::vector<BadCall> calls = {
      {"add", Kind::shape, [] { return nx::add(f23(), nx::ones({4})); }},
      {"add", Kind::dtype, [] { return nx::add(b23(), b23()); }},
      {"multiply", Kind::shape, [] { return f23() * nx::ones({3, 2}); }},
      {"negate", Kind::dtype, [] { return nx::negate(b23()); }},
      {"quotient", Kind::dtype, [] { return nx::quotient(f23(), f23()); }},
      {"bitwise_and", Kind::dtype, [] { return nx::bitwise_and(f23(), i23()); }},
      {"bitwise_not", Kind::dtype, [] { return nx::bitwise_not(f23()); }},
      {"left_shift", Kind::dtype, [] { return nx::left_shift(f23(), 1); }},
      {"count_leading_zeros", Kind::dtype, [] { return nx::count_leading_zeros(f23()); }},
      {"population_count", Kind::dtype, [] { return nx::population_count(b23()); }},
      {"floor", Kind::dtype, [] { return nx::floor(b23()); }},
      {"select", Kind::shape, [] { return nx::select(b23(), f23(), nx::ones({4})); }},
      {"bitcast", Kind::dtype, [] { return nx::bitcast(f23(), nx::f64); }},
      {"sum", Kind::axis, [] { return nx::sum(f23(), {.axes = {2}}); }},
      {"sum", Kind::axis, [] { return nx::sum(f23(), {.axes = {0, -2}}); }},
      {"argmax", Kind::axis, [] { return nx::argmax(f23(), {.axis = 5}); }},
      {"cumulative_sum", Kind::axis, [] { return nx::cumulative_sum(f23(), {.axis = -3}); }},
      {"reshape", Kind::shape, [] { return nx::reshape(f23(), {4, 2}); }},
      {"reshape", Kind::shape, [] { return nx::reshape(f23(), {-1, -1}); }},
      {"transpose", Kind::axis, [] { return nx::transpose(f23(), {0, 0}); }},
      {"transpose", Kind::axis, [] { return nx::transpose(f23(), {0}); }},
      {"broadcast", Kind::shape, [] { return nx::broadcast(f23(), {3, 3}); }},
      {"broadcast", Kind::axis, [] { return nx::broadcast(nx::ones({3}), {3, 2}, {.axes = {2}}); }},
      {"squeeze", Kind::shape, [] { return nx::squeeze(f23(), {0}); }},
      {"new_axis", Kind::axis, [] { return nx::new_axis(f23(), 4); }},
      {"slice", Kind::shape, [] { return nx::slice(f23(), {0, 0}, {3, 1}); }},
      {"slice", Kind::value, [] { return nx::slice(f23(), {0, 0}, {1, 1}, {.strides = {0, 1}}); }},
      {"slice", Kind::shape, [] { return nx::slice(f23(), {0}, {1}); }},
      {"put_slice", Kind::shape, [] { return nx::put_slice(f23(), {0, 0}, nx::ones({3, 1})); }},
      {"pad", Kind::shape, [] { return nx::pad(f23(), 0.0, {{1, 1, 0}}); }},
      {"pad", Kind::value, [] { return nx::pad(f23(), 0.0, {{0, 0, -1}, {0, 0, 0}}); }},
      {"concatenate", Kind::shape, [] { return nx::concatenate({f23(), nx::ones({2, 2})}, 0); }},
      {"concatenate", Kind::value, [] { return nx::concatenate({}, 0); }},
      {"stack", Kind::shape, [] { return nx::stack({f23(), nx::ones({3, 2})}); }},
      {"reverse", Kind::axis, [] { return nx::reverse(f23(), {3}); }},
      {"tile", Kind::value, [] { return nx::tile(f23(), {-1, 1}); }},
      {"take", Kind::dtype, [] { return nx::take(f23(), f23()); }},
      {"take", Kind::axis, [] { return nx::take(f23(), nx::tensor({0}), 2); }},
      {"take_along_axis", Kind::shape, [] { return nx::take_along_axis(f23(), nx::tensor({0}), 0); }},
      {"gather", Kind::shape, [] { return nx::gather(f23(), nx::tensor({{0, 0, 0}})); }},
      {"gather", Kind::dtype, [] { return nx::gather(f23(), nx::tensor({{0.0}})); }},
      {"indexed_add", Kind::shape, [] { return nx::indexed_add(f23(), nx::tensor({{0}}), nx::ones({4})); }},
      {"indexed_put", Kind::dtype, [] { return nx::indexed_put(f23(), nx::tensor({{0.5}}), nx::ones({3})); }},
      {"dot_general", Kind::shape, [] { return nx::dot(f23(), f23()); }},
      {"dot_general", Kind::axis, [] { return nx::dot(f23(), {2}, f23(), {1}); }},
      {"dot_general", Kind::dtype, [] { return nx::dot(b23(), nx::transpose(b23())); }},
      {"matmul", Kind::shape, [] { return nx::matmul(f23(), f23()); }},
      {"einsum", Kind::value, [] { return nx::einsum("ii->i", nx::ones({2, 2})); }},
      {"einsum", Kind::value, [] { return nx::einsum("ij,jk->il", f23(), f23()); }},
      {"iota", Kind::axis, [] { return nx::iota({2, 3}, nx::i64, 2); }},
      {"eye", Kind::value, [] { return nx::eye(-1); }},
  };
  return calls;
}

void expect_error(const BadCall& c, const std::function<nx::Tensor()>& call, const char* mode) {
  try {
    nx::Tensor t = call();
    ADD_FAILURE() << mode << ": [" << c.op << "] did not throw; got " << t;
  } catch (const nx::Error& e) {
    std::string msg = e.what();
    EXPECT_TRUE(kind_matches(e, c.kind)) << mode << ": wrong error class for: " << msg;
    EXPECT_NE(msg.find(std::string("[") + c.op + "]"), std::string::npos) << mode << ": " << msg;
    EXPECT_NE(msg.find("errors_test.cpp:"), std::string::npos) << mode << ": no user line in: " << msg;
  }
}

TEST(Errors, EveryBadCallRaisesANamedErrorWithTheUsersLine) {
  for (const BadCall& c : bad_calls()) {
    SCOPED_TRACE(c.op);
    expect_error(c, c.call, "eager");
    auto traced = nx::jit([&](const nx::Tensor&) { return c.call(); });
    expect_error(c, [&] { return traced(nx::ones({1})); }, "jit");
  }
}

TEST(Errors, MessagesNameShapesAndDTypes) {
  try {
    nx::dot(f23(), nx::ones({4, 5}));
    FAIL();
  } catch (const nx::ShapeError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("f32(2, 3)"), std::string::npos) << m;
    EXPECT_NE(m.find("f32(4, 5)"), std::string::npos) << m;
  }
}

TEST(Errors, ReadingValuesWithTheWrongType) {
  EXPECT_THROW(f23().to_vector<int32_t>(), nx::DTypeError);
  EXPECT_THROW(f23().item<float>(), nx::ValueError);
  EXPECT_THROW(nx::from_vector(std::vector<float>{1, 2, 3}, {2, 2}), nx::ValueError);
  EXPECT_THROW(nx::Shape({1, 2, 3, 4, 5, 6, 7, 8, 9}), nx::ShapeError);
  EXPECT_THROW(nx::zeros({int64_t{1} << 40, int64_t{1} << 40}), nx::Error);
}

TEST(Errors, HugeOrEmptyInputsRaiseInsteadOfCrashing) {
  constexpr int64_t kHuge = int64_t{1} << 62;
  EXPECT_THROW(nx::tile(nx::ones({2}), {kHuge}), nx::ShapeError);
  EXPECT_THROW(nx::pad(nx::ones({2}), 0.0, {{kHuge, kHuge, 0}}), nx::ShapeError);
  EXPECT_THROW(nx::pad(nx::ones({3}), 0.0, {{0, 0, kHuge}}), nx::ShapeError);
  // The element count fits in int64, the byte count does not.
  EXPECT_THROW(nx::conv(nx::ones({1, 1, 3}), nx::ones({1, 1, 2}), {.padding = std::vector<std::pair<int64_t, int64_t>>{{kHuge, 0}}}),
               nx::ShapeError);
  // Representable but not allocatable.
  EXPECT_THROW(nx::full({int64_t{1} << 30, int64_t{1} << 30}, 1.0), nx::Error);
  // Gathers clamp indices into the axis; an empty axis has nothing to clamp to.
  EXPECT_THROW(nx::take(nx::zeros({0, 3}), nx::tensor({0}), 0), nx::ShapeError);
  EXPECT_THROW(nx::gather(nx::zeros({0, 3}), nx::tensor({{0}})), nx::ShapeError);
  EXPECT_EQ(nx::take(nx::zeros({0, 3}), nx::zeros({0}, nx::i64), 0).shape(), nx::Shape({0, 3}));
}

}  // namespace
