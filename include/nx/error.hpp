// nx::Error and its subclasses. Messages name the op, the shapes/dtypes involved and
// the caller's file:line, e.g. "[add] cannot broadcast (4, 3) with (5) (at train.cpp:12)".
#pragma once
#include <stdexcept>
#include <string>

namespace nx {

// The user's source line. A default argument `Where where = Where::current()` is evaluated
// at the call site (also for implicit conversions inside operator expressions), so errors
// point at the user's code. (Our own type: clang 14 cannot use std::source_location.)
struct Where {
  static constexpr Where current(const char* file = __builtin_FILE(), unsigned line = __builtin_LINE()) noexcept {
    return Where{file, line};
  }
  constexpr const char* file_name() const noexcept { return file_; }
  constexpr unsigned line() const noexcept { return line_; }
  const char* file_ = "";
  unsigned line_ = 0;
};

class Error : public std::runtime_error {
 public:
  Error(const std::string& op, const std::string& what, Where where = Where::current());
  const std::string& op() const { return op_; }
  const std::string& detail() const { return detail_; }
  const Where& where() const { return where_; }

 private:
  std::string op_, detail_;
  Where where_;
};
class ShapeError : public Error { using Error::Error; };
class DTypeError : public Error { using Error::Error; };
class AxisError : public Error { using Error::Error; };
class ValueError : public Error { using Error::Error; };
class IndexError : public Error { using Error::Error; };  // an index out of range (IndexMode::check)

}  // namespace nx
