#include "nx/op.hpp"

#include <array>

namespace nx {
namespace {
struct OpInfo {
  std::string_view name;
  OpKind kind;
};
constexpr std::array kOps = {
#define NX_OP_INFO(n, str, kind) OpInfo{str, OpKind::kind},
    NX_OPS(NX_OP_INFO)
#undef NX_OP_INFO
};
}  // namespace

std::string_view op_name(Op op) { return kOps[static_cast<size_t>(op)].name; }
OpKind op_kind(Op op) { return kOps[static_cast<size_t>(op)].kind; }
int num_ops() { return static_cast<int>(kOps.size()); }

}  // namespace nx
