// Variables to and from safetensors files.
#include "nx/io/safetensors.hpp"
#include "nx/nn/model.hpp"

namespace nx::nn {

void save_variables(const std::string& path, const Variables& vars, Where where) {
  io::TensorDict d;
  for (const auto& [prefix, tree] : {std::pair{"params.", &vars.params}, std::pair{"state.", &vars.state}})
    for (const auto& [layer, ps] : *tree)
      for (const auto& [name, t] : ps) d[prefix + layer + "." + name] = t;
  std::string frozen;
  for (const std::string& f : vars.frozen) frozen += (frozen.empty() ? "" : "\n") + f;
  io::save_safetensors(path, d, {{"nx.nn.format", "nx-variables-1"}, {"nx.nn.frozen", frozen}}, where);
}

Variables load_variables(const std::string& path, Where where) {
  io::Safetensors f = io::load_safetensors(path, {}, where);
  auto fmt = f.metadata.find("nx.nn.format");
  if (fmt == f.metadata.end() || fmt->second != "nx-variables-1")
    throw ValueError("nn.load_variables", path + " was not written by nn::save_variables (no nx.nn.format)", where);
  Variables v;
  for (const auto& [key, t] : f.tensors) {
    const bool is_param = key.rfind("params.", 0) == 0, is_state = key.rfind("state.", 0) == 0;
    const size_t start = is_param ? 7 : 6, dot = key.rfind('.');
    if ((!is_param && !is_state) || dot == std::string::npos || dot <= start || dot + 1 == key.size())
      throw ValueError("nn.load_variables", path + ": unexpected tensor name '" + key + "'", where);
    (is_param ? v.params : v.state)[key.substr(start, dot - start)][key.substr(dot + 1)] = t;
  }
  auto frozen = f.metadata.find("nx.nn.frozen");
  if (frozen != f.metadata.end()) {
    size_t at = 0;
    const std::string& s = frozen->second;
    while (at < s.size()) {
      size_t nl = s.find('\n', at);
      if (nl == std::string::npos) nl = s.size();
      if (nl > at) v.frozen.push_back(s.substr(at, nl - at));
      at = nl + 1;
    }
  }
  return v;
}

}  // namespace nx::nn
