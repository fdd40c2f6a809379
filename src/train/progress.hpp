// The progress display: a live bar on a terminal, one plain line per epoch otherwise.
#pragma once
#include <chrono>
#include <ostream>

#include "nx/train/loop.hpp"

namespace nx::train::detail {

class Progress {
 public:
  explicit Progress(const ProgressOpts& opts);
  bool due(const LoopState& s) const;  // whether iteration() would redraw now
  void iteration(const LoopState& s);  // redraws the bar at most every 100 ms (live only)
  void epoch(const LoopState& s);      // the epoch's line (metrics, validation, time)

 private:
  std::string metrics_text(const LoopState& s, bool with_validation) const;
  bool enabled_, live_;
  std::ostream* out_;
  std::chrono::steady_clock::time_point last_draw_{};
};

}  // namespace nx::train::detail
