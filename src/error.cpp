#include "nx/error.hpp"

#include <string>

namespace nx {
namespace {
std::string format(const std::string& op, const std::string& what, const Where& where) {
  std::string file = where.file_name();
  if (auto slash = file.find_last_of('/'); slash != std::string::npos) file = file.substr(slash + 1);
  std::string msg = "[" + op + "] " + what;
  if (where.line() != 0) msg += " (at " + file + ":" + std::to_string(where.line()) + ")";
  return msg;
}
}  // namespace

Error::Error(const std::string& op, const std::string& what, Where where)
    : std::runtime_error(format(op, what, where)), op_(op), detail_(what), where_(where) {}

}  // namespace nx
