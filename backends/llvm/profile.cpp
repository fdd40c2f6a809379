#include "profile.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <vector>

namespace nx::llvm_backend {
namespace {

struct Totals {
  double seconds = 0;
  long long calls = 0;
};

struct Profile {
  std::mutex mu;
  std::map<std::string, Totals> steps;
  ~Profile() {
    std::vector<std::pair<std::string, Totals>> v(steps.begin(), steps.end());
    std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.second.seconds > b.second.seconds; });
    double total = 0;
    for (const auto& [k, t] : v) total += t.seconds;
    std::fprintf(stderr, "NX_PROFILE: %.3f s in compiled graphs' steps\n%10s %8s %10s %6s  step\n", total, "total ms",
                 "calls", "ms/call", "%");
    for (const auto& [k, t] : v)
      std::fprintf(stderr, "%10.2f %8lld %10.4f %6.2f  %s\n", t.seconds * 1e3, t.calls, t.seconds * 1e3 / double(t.calls),
                   100 * t.seconds / std::max(total, 1e-12), k.c_str());
  }
};

Profile& profile() {
  static Profile p;  // destroyed (and printed) at exit
  return p;
}

}  // namespace

bool profiling() {
  static const bool on = [] {
    const char* e = std::getenv("NX_PROFILE");
    if (e && *e && *e != '0') {
      profile();
      return true;
    }
    return false;
  }();
  return on;
}

void record_step(const std::string& label, double seconds) {
  Profile& p = profile();
  std::lock_guard lock(p.mu);
  Totals& t = p.steps[label];
  t.seconds += seconds;
  ++t.calls;
}

}  // namespace nx::llvm_backend
