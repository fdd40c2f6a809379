// Axes arguments and the reduction options, shared by the free ops (nx/ops.hpp) and the
// Tensor members that call them (x.sum(1)).
#pragma once
#include <initializer_list>
#include <utility>
#include <vector>

namespace nx {

// A set of axes: `0`, `{0, 1}`, or, default-constructed, every axis.
class Axes {
 public:
  Axes() = default;
  Axes(int axis) : list_{axis}, all_(false) {}  // NOLINT(google-explicit-constructor)
  Axes(std::initializer_list<int> axes) : list_(axes), all_(false) {}
  Axes(std::vector<int> axes) : list_(std::move(axes)), all_(false) {}  // NOLINT
  static Axes none() { return Axes(std::vector<int>{}); }
  bool all() const { return all_; }
  const std::vector<int>& list() const { return list_; }

 private:
  std::vector<int> list_;
  bool all_ = true;
};

// One axis, as the short form of an option struct's axis: `softmax(x, 1)`. It has no
// default, so `f(x, {})` still means the options' defaults.
struct Axis {
  Axis(int a) : value(a) {}  // NOLINT(google-explicit-constructor)
  int value;
};

namespace detail {
// The first member of option structs whose fields must be named (`{.axes = 1}`): a brace
// list of numbers cannot then fill them by position, where `sum(x, {0, 1})` would set
// axes = 0 and keep_axes = true; it goes to the overload taking axes instead.
struct NamedFieldsOnly {};
}  // namespace detail

// Every reduction takes its axes alone (`sum(x, 1)`, `sum(x, {0, 1})`) or options with
// named fields (`sum(x, {.axes = {0, 1}, .keep_axes = true})`); `sum(x)` reduces all.
struct ReduceOpts {
  detail::NamedFieldsOnly named_fields_only;
  Axes axes;  // default: every axis
  bool keep_axes = false;
};
}  // namespace nx
