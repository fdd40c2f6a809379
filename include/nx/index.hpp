// numpy-style indices for Tensor::slice and Tensor::at, one per leading axis:
//   an integer          picks one position and drops the axis (negative: from the end);
//   {start, stop}       keeps positions start..stop-1 (Python's start:stop);
//   {start, stop, step} with a step, which may be negative (Python's start:stop:step);
//   nx::all             keeps the axis whole (Python's `:`);
// stop may be nx::end (to the end). Axes after the last index are kept whole. Out-of-range
// starts and stops are clipped as Python clips them; an integer out of range raises
// nx::IndexError.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <limits>

namespace nx {

inline constexpr int64_t end = std::numeric_limits<int64_t>::max();

struct Range {
  int64_t start = 0, stop = end, step = 1;
};

// nx::all as an index (the name is also the reduction all(x)): `x.slice({nx::all, 1})`.
struct AllIndex {};
inline AllIndex all() { return {}; }

class Index {
 public:
  Index(int64_t position) : kind_(Kind::pick), range_{position, position + 1, 1} {}  // NOLINT
  Index(int position) : Index(static_cast<int64_t>(position)) {}                     // NOLINT
  Index(Range r) : kind_(Kind::range), range_(r) {}                                  // NOLINT
  Index(AllIndex) : kind_(Kind::range) {}                                            // NOLINT
  Index(AllIndex (*)()) : kind_(Kind::range) {}  // NOLINT: nx::all without parentheses
  // {start, stop} or {start, stop, step}.
  Index(std::initializer_list<int64_t> r) : kind_(Kind::range) {
    const int64_t* v = r.begin();
    if (r.size() > 0) range_.start = v[0];
    if (r.size() > 1) range_.stop = v[1];
    if (r.size() > 2) range_.step = v[2];
    parts_ = static_cast<int>(r.size());
  }
  bool picks() const { return kind_ == Kind::pick; }
  const Range& range() const { return range_; }
  int parts() const { return parts_; }  // the numbers a brace list gave (must be 2 or 3)

 private:
  enum class Kind { pick, range } kind_;
  Range range_{};
  int parts_ = 2;
};

}  // namespace nx
