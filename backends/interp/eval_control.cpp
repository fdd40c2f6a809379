// while and cond (and custom_grad, an identity forward): compile the body subgraphs with this backend and run them.
#include "kernels.hpp"

namespace nx::interp {
namespace {

std::vector<BufferPtr> buffers(std::span<const Operand> in) {
  std::vector<BufferPtr> b;
  b.reserve(in.size());
  for (const Operand& o : in) b.push_back(o.buffer);
  return b;
}

bool truth(const BufferPtr& b) { return *static_cast<const bool*>(b->data()); }

}  // namespace

NX_KERNEL(eval_control) {
  if (n.op == Op::CustomGrad) return {in[0].buffer};  // forward: the value; the body is the backward
  const Graph& first = *n.attrs.bodies[0];
  const Graph& second = *n.attrs.bodies[1];
  auto c0 = static_cast<size_t>(n.attrs.k);
  if (n.op == Op::Cond) {
    std::vector<BufferPtr> all = buffers(in);
    bool p = truth(all[0]);
    auto exe = be.compile(p ? first : second, {});
    auto begin = all.begin() + 1 + (p ? 0 : static_cast<std::ptrdiff_t>(c0));
    auto end = p ? begin + static_cast<std::ptrdiff_t>(c0) : all.end();
    return exe->run(std::vector<BufferPtr>(begin, end));
  }
  // While: inputs are the state, the condition's captures, then the body's captures.
  size_t ns = n.outputs.size();
  std::vector<BufferPtr> all = buffers(in);
  std::vector<BufferPtr> state(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(ns));
  std::vector<BufferPtr> cond_caps(all.begin() + static_cast<std::ptrdiff_t>(ns),
                                   all.begin() + static_cast<std::ptrdiff_t>(ns + c0));
  std::vector<BufferPtr> body_caps(all.begin() + static_cast<std::ptrdiff_t>(ns + c0), all.end());
  auto cond = be.compile(first, {});
  auto body = be.compile(second, {});
  auto with = [](std::vector<BufferPtr> s, const std::vector<BufferPtr>& caps) {
    s.insert(s.end(), caps.begin(), caps.end());
    return s;
  };
  while (truth(cond->run(with(state, cond_caps))[0])) state = body->run(with(state, body_caps));
  return state;
}

}  // namespace nx::interp
