// NX_PROFILE=1: the wall time of each step of compiled graphs (a fused kernel, a oneDNN or
// interp node), summed by step over the process and printed to stderr at exit, slowest
// first. Off by default: then a step costs one branch.
#pragma once
#include <chrono>
#include <string>

namespace nx::llvm_backend {

bool profiling();
void record_step(const std::string& label, double seconds);

// Times a scope when profiling; `label` is made only then.
class StepTimer {
 public:
  template <class MakeLabel> explicit StepTimer(MakeLabel&& make) {
    if (profiling()) {
      label_ = make();
      start_ = std::chrono::steady_clock::now();
      on_ = true;
    }
  }
  ~StepTimer() {
    if (on_) record_step(label_, std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count());
  }

 private:
  bool on_ = false;
  std::string label_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace nx::llvm_backend
