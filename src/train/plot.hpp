// Training curves as an SVG file and a CSV log, from the loop's history.
#pragma once
#include <string>

#include "nx/train/loop.hpp"

namespace nx::train::detail {

// Two panels: the losses, and the other metrics (accuracy-like), one line per name over epochs.
void write_svg_plot(const std::string& path, const History& history);
// A header row, then one row per epoch; the whole file is rewritten (so a resumed run's
// file holds every epoch).
void write_csv_log(const std::string& path, const History& history);

}  // namespace nx::train::detail
