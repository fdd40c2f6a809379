// nx::Error and its subclasses. Messages name the op, the shapes/dtypes involved and
// the caller's file:line, e.g. "[add] cannot broadcast (4, 3) with (5) (at train.cpp:12)".
#pragma once
#include <source_location>
#include <stdexcept>
#include <string>

namespace nx {

using Where = std::source_location;

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

}  // namespace nx
