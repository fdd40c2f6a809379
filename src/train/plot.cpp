#include "train/plot.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "nx/io.hpp"

namespace nx::train::detail {

namespace {

bool is_bookkeeping(const std::string& name) { return name == "seconds" || name == "lr_scale"; }

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

const char* kColors[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"};

void panel(std::ostringstream& svg, double x0, double y0, double w, double h, const std::string& title,
           const std::vector<std::pair<std::string, const std::vector<double>*>>& lines) {
  svg << "<g>\n<text x='" << x0 + w / 2 << "' y='" << y0 - 8 << "' text-anchor='middle' font-size='14'>" << title
      << "</text>\n";
  svg << "<rect x='" << x0 << "' y='" << y0 << "' width='" << w << "' height='" << h
      << "' fill='none' stroke='#888'/>\n";
  double lo = INFINITY, hi = -INFINITY;
  size_t n = 0;
  for (const auto& [name, v] : lines)
    for (double x : *v)
      if (std::isfinite(x)) lo = std::min(lo, x), hi = std::max(hi, x), n = std::max(n, v->size());
  if (!(lo <= hi)) {
    svg << "</g>\n";
    return;
  }
  if (hi - lo < 1e-12) hi = lo + 1, lo -= 1;
  const double pad = (hi - lo) * 0.05;
  lo -= pad, hi += pad;
  auto px = [&](size_t i) { return x0 + (n <= 1 ? w / 2 : w * double(i) / double(n - 1)); };
  auto py = [&](double v) { return y0 + h - h * (v - lo) / (hi - lo); };
  for (int t = 0; t <= 4; ++t) {
    const double v = lo + (hi - lo) * t / 4;
    svg << "<text x='" << x0 - 6 << "' y='" << py(v) + 4 << "' text-anchor='end' font-size='11'>" << num(v) << "</text>\n";
  }
  for (size_t i = 0; i < n; ++i)
    if (n <= 10 || i % ((n + 9) / 10) == 0 || i + 1 == n)
      svg << "<text x='" << px(i) << "' y='" << y0 + h + 16 << "' text-anchor='middle' font-size='11'>" << i + 1
          << "</text>\n";
  svg << "<text x='" << x0 + w / 2 << "' y='" << y0 + h + 34 << "' text-anchor='middle' font-size='12'>epoch</text>\n";
  for (size_t k = 0; k < lines.size(); ++k) {
    const auto& [name, v] = lines[k];
    const char* color = kColors[k % 8];
    svg << "<polyline fill='none' stroke='" << color << "' stroke-width='2' points='";
    for (size_t i = 0; i < v->size(); ++i)
      if (std::isfinite((*v)[i])) svg << px(i) << "," << py((*v)[i]) << " ";
    svg << "'/>\n";
    for (size_t i = 0; i < v->size(); ++i)
      if (std::isfinite((*v)[i])) svg << "<circle cx='" << px(i) << "' cy='" << py((*v)[i]) << "' r='3' fill='" << color << "'/>\n";
    svg << "<text x='" << x0 + w + 10 << "' y='" << y0 + 14 + 16 * double(k) << "' font-size='12' fill='" << color
        << "'>" << name << "</text>\n";
  }
  svg << "</g>\n";
}

}  // namespace

void write_svg_plot(const std::string& path, const History& history) {
  std::vector<std::pair<std::string, const std::vector<double>*>> losses, others;
  for (const auto& [name, v] : history.values) {
    if (is_bookkeeping(name) || name.find("confusion") != std::string::npos) continue;
    (name.find("loss") != std::string::npos ? losses : others).emplace_back(name, &v);
  }
  std::ostringstream svg;
  svg << "<svg xmlns='http://www.w3.org/2000/svg' width='980' height='360' font-family='sans-serif'>\n"
      << "<rect width='100%' height='100%' fill='white'/>\n";
  panel(svg, 70, 40, 300, 260, "loss", losses);
  panel(svg, 560, 40, 300, 260, "metrics", others);
  svg << "</svg>\n";
  io::save_file(path, svg.str(), "train.plot");
}

void write_csv_log(const std::string& path, const History& history) {
  std::ostringstream csv;
  csv << "epoch";
  for (const auto& [name, v] : history.values) csv << "," << name;
  csv << "\n";
  for (int64_t e = 0; e < history.epochs(); ++e) {
    csv << e + 1;
    for (const auto& [name, v] : history.values) {
      csv << ",";
      if (e < int64_t(v.size())) csv << num(v[e]);
    }
    csv << "\n";
  }
  io::save_file(path, csv.str(), "train.csv_log");
}

}  // namespace nx::train::detail
