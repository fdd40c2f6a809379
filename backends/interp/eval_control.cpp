#include "kernels.hpp"

namespace nx::interp {
NX_KERNEL(eval_control) {
  (void)in;
  (void)be;
  throw Error(std::string(op_name(n.op)), "not implemented by the interp backend yet", n.where);
}
}  // namespace nx::interp
