// while and cond (and custom_grad, an identity forward): compile the body subgraphs with this backend and run them.
#include <map>
#include <memory>
#include <mutex>
#include <utility>

#include "kernels.hpp"

namespace nx::interp {
namespace {

// Compiled bodies by (backend, body graph): a loop nested in another loop's body runs once
// per outer step, and compiling its bodies each time cost more than running them (an
// L-BFGS fit: three inner loops per step). An entry holds the graph weakly: a freed graph
// (whose address a new one may take) is a miss, and is purged.
std::shared_ptr<Executable> compiled_body(Backend& be, const std::shared_ptr<const Graph>& g) {
  static std::mutex mu;
  static std::map<std::pair<const Backend*, const Graph*>, std::pair<std::weak_ptr<const Graph>, std::shared_ptr<Executable>>>
      cache;
  std::pair<const Backend*, const Graph*> key{&be, g.get()};
  {
    std::lock_guard lock(mu);
    auto it = cache.find(key);
    if (it != cache.end() && it->second.first.lock() == g) return it->second.second;
  }
  std::shared_ptr<Executable> exe = be.compile(*g, {});
  std::lock_guard lock(mu);
  std::erase_if(cache, [](const auto& e) { return e.second.first.expired(); });
  cache[key] = {g, exe};
  return exe;
}

std::vector<BufferPtr> buffers(std::span<const Operand> in) {
  std::vector<BufferPtr> b;
  b.reserve(in.size());
  for (const Operand& o : in) b.push_back(o.buffer);
  return b;
}

// The predicate, wherever it lies (a device backend's loop runs its bodies there).
bool truth(const BufferPtr& b) {
  if (b->owner()->host_accessible()) return *static_cast<const bool*>(b->data());
  bool p = false;
  b->owner()->to_host(*b, &p, 1);
  return p;
}

}  // namespace

NX_KERNEL(eval_control) {
  if (n.op == Op::CustomGrad) return {in[0].buffer};  // forward: the value; the body is the backward
  const auto& first = n.attrs.bodies[0];
  const auto& second = n.attrs.bodies[1];
  auto c0 = static_cast<size_t>(n.attrs.k);
  if (n.op == Op::Cond) {
    std::vector<BufferPtr> all = buffers(in);
    bool p = truth(all[0]);
    auto exe = compiled_body(be, p ? first : second);
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
  auto cond = compiled_body(be, first);
  auto body = compiled_body(be, second);
  auto with = [](std::vector<BufferPtr> s, const std::vector<BufferPtr>& caps) {
    s.insert(s.end(), caps.begin(), caps.end());
    return s;
  };
  while (truth(cond->run(with(state, cond_caps))[0])) state = body->run(with(state, body_caps));
  return state;
}

}  // namespace nx::interp
