// Option text for the model table: "filters=32, kernel=(3, 3), padding=same".
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "nx/ops.hpp"

namespace nx::nn::detail {

inline std::string number_str(double v) {
  std::string s = std::to_string(v);
  s.erase(s.find_last_not_of('0') + 1);
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}
inline std::string ints_str(const std::vector<int64_t>& v) {
  std::string s = "(";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + ")";
}
inline std::string padding_str(const Padding& p) {
  if (p.mode == PaddingMode::same) return "same";
  if (p.mode == PaddingMode::valid) return "valid";
  std::string s = "(";
  for (size_t i = 0; i < p.pairs.size(); ++i)
    s += (i ? ", " : "") + std::string("(") + std::to_string(p.pairs[i].first) + ", " + std::to_string(p.pairs[i].second) + ")";
  return s + ")";
}
// Joins "key=value" parts, skipping empty values.
inline std::string options_str(const std::vector<std::pair<std::string, std::string>>& parts) {
  std::string s;
  for (const auto& [k, v] : parts)
    if (!v.empty()) s += (s.empty() ? "" : ", ") + k + "=" + v;
  return s;
}

}  // namespace nx::nn::detail
