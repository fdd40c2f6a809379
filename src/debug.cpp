// debug_print and debug_callback: a HostCallback node (an identity on x that calls a host
// function when it runs), or the call itself when x is concrete.
#include "nx/debug.hpp"

#include <iostream>
#include <mutex>

#include "nx/detail/core.hpp"

namespace nx {

Tensor debug_callback(const Tensor& x, std::function<void(const Tensor&)> fn, Where where) {
  if (!x.defined()) throw ValueError("debug_callback", "the tensor is undefined", where);
  if (!fn) throw ValueError("debug_callback", "the function is empty", where);
  if (!detail::current_trace()) {  // eager; inside a trace even a concrete x gets a node, run per call
    fn(x);
    return x;
  }
  TensorType type{x.dtype(), x.shape()};
  bool weak = x.is_weak();
  Attrs a;
  a.callback = std::make_shared<const HostFn>([type, weak, fn = std::move(fn)](const std::vector<BufferPtr>& in) {
    fn(detail::make_concrete(type, in[0], weak));
  });
  Tensor y = detail::apply1(Op::HostCallback, std::move(a), {x}, type, where, weak);
  if (detail::Trace* t = detail::current_trace(); t && y.is_traced()) t->effects.push_back(y.value());
  return y;
}

Tensor debug_print(const Tensor& x, std::string format, Where where) {
  return debug_callback(
      x,
      [format = std::move(format)](const Tensor& value) {
        std::string text = to_string(value), line = format;
        if (size_t at = line.find("{}"); at != std::string::npos) line.replace(at, 2, text);
        else line += text;
        static std::mutex mu;
        std::lock_guard lock(mu);
        std::cout << line << std::endl;
      },
      where);
}

}  // namespace nx
