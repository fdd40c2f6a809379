#include "train/progress.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <iostream>

namespace nx::train::detail {

namespace {
std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}
std::string clock_str(double seconds) {
  if (!(seconds >= 0) || seconds > 1e7) return "?";
  const long s = std::lround(seconds);
  char buf[32];
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  else std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
  return buf;
}
}  // namespace

Progress::Progress(const ProgressOpts& opts)
    : enabled_(opts.enabled), out_(opts.out ? opts.out : &std::cout) {
  using Style = ProgressOpts::Style;
  live_ = opts.style == Style::live || (opts.style == Style::automatic && out_ == &std::cout && isatty(STDOUT_FILENO));
}

std::string Progress::metrics_text(const LoopState& s, bool with_validation) const {
  std::string t;
  for (const auto& [name, v] : s.metrics) {
    if (!with_validation && name.rfind("val_", 0) == 0) continue;
    if (name == "confusion_matrix" || name.find("confusion") != std::string::npos) continue;
    t += "  " + name + " " + fixed(v, 4);
  }
  return t;
}

bool Progress::due(const LoopState& s) const {
  if (!enabled_ || !live_) return false;
  const bool last = s.iterations > 0 && s.iteration == s.iterations;
  return last || std::chrono::steady_clock::now() - last_draw_ >= std::chrono::milliseconds(100);
}

void Progress::iteration(const LoopState& s) {
  if (!due(s)) return;
  last_draw_ = std::chrono::steady_clock::now();
  std::string bar;
  if (s.iterations > 0) {
    constexpr int width = 24;
    const int filled = std::min(width, int(double(width) * double(s.iteration) / double(s.iterations)));
    bar.assign(1, '[');
    bar.append(size_t(filled), '=');
    if (filled < width) bar += '>';
    bar.append(size_t(std::max(0, width - filled - 1)), ' ');
    bar += "] " + std::to_string(s.iteration) + "/" + std::to_string(s.iterations);
  } else {
    bar = std::to_string(s.iteration) + " batches";
  }
  const double rate = s.epoch_seconds > 0 ? double(s.examples) / s.epoch_seconds : 0;
  std::string eta;
  if (s.iterations > 0 && s.iteration > 0)
    eta = "  ETA " + clock_str(s.epoch_seconds / double(s.iteration) * double(s.iterations - s.iteration));
  *out_ << "\r\033[2KEpoch " << s.epoch + 1 << "/" << s.epochs << " " << bar << eta << "  " << fixed(rate, 0)
        << " ex/s" << metrics_text(s, false) << std::flush;
}

void Progress::epoch(const LoopState& s) {
  if (!enabled_) return;
  const double rate = s.epoch_seconds > 0 ? double(s.examples) / s.epoch_seconds : 0;
  if (live_) *out_ << "\r\033[2K";
  *out_ << "Epoch " << s.epoch + 1 << "/" << s.epochs << "  " << fixed(s.epoch_seconds, 1) << " s  " << fixed(rate, 0)
        << " ex/s" << metrics_text(s, true);
  if (s.lr_scale != 1.0) *out_ << "  lr_scale " << s.lr_scale;
  *out_ << std::endl;
}

}  // namespace nx::train::detail
