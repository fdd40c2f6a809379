#include "nvrtc_compile.hpp"

#include <nvrtc.h>

#include <chrono>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "nx/config.hpp"
#include "nx/detail/kernel_cache.hpp"
#include "nx/error.hpp"

namespace nx::cuda_backend {
namespace {

void check_nvrtc(nvrtcResult r, const char* what) {
  if (r != NVRTC_SUCCESS) throw Error("cuda", std::string(what) + ": " + nvrtcGetErrorString(r));
}

struct Cache {
  std::mutex mu;
  std::unordered_map<std::string, std::string> cubins;  // by options + source
  std::string root = detail::default_cache_root();
  NvrtcStats stats;
};
Cache& cache() {
  static Cache* c = new Cache;  // lives for the process
  return *c;
}

// The first lines of a source around an error, for the message.
std::string numbered(const std::string& source) {
  std::string out;
  int line = 1;
  size_t start = 0;
  while (start < source.size() && line <= 400) {
    size_t end = source.find('\n', start);
    if (end == std::string::npos) end = source.size();
    out += std::to_string(line++) + ": " + source.substr(start, end - start) + "\n";
    start = end + 1;
  }
  return out;
}

}  // namespace

std::vector<std::string> nvrtc_options(int arch) {
  return {"--gpu-architecture=sm_" + std::to_string(arch), "--fmad=false", "-prec-div=true", "-prec-sqrt=true", "-std=c++17"};
}

std::string nvrtc_version() {
  int major = 0, minor = 0;
  check_nvrtc(nvrtcVersion(&major, &minor), "nvrtcVersion");
  return std::to_string(major) + "." + std::to_string(minor);
}

std::string compile_cubin(const std::string& source, int arch) {
  nvrtcProgram program = nullptr;
  check_nvrtc(nvrtcCreateProgram(&program, source.c_str(), "nx_kernel.cu", 0, nullptr, nullptr), "nvrtcCreateProgram");
  struct Destroy {
    nvrtcProgram& p;
    ~Destroy() { nvrtcDestroyProgram(&p); }
  } destroy{program};
  std::vector<std::string> flags = nvrtc_options(arch);
  std::vector<const char*> options;
  for (const std::string& f : flags) options.push_back(f.c_str());
  nvrtcResult result = nvrtcCompileProgram(program, static_cast<int>(options.size()), options.data());
  size_t log_size = 0;
  nvrtcGetProgramLogSize(program, &log_size);
  std::string log(log_size, '\0');
  if (log_size) nvrtcGetProgramLog(program, log.data());
  if (result != NVRTC_SUCCESS)
    throw Error("cuda", std::string("NVRTC could not compile a kernel (") + nvrtcGetErrorString(result) + "):\n" + log +
                            "\nsource:\n" + numbered(source));
  size_t size = 0;
  check_nvrtc(nvrtcGetCUBINSize(program, &size), "nvrtcGetCUBINSize");
  std::string cubin(size, '\0');
  check_nvrtc(nvrtcGetCUBIN(program, cubin.data()), "nvrtcGetCUBIN");
  return cubin;
}

std::string cached_cubin(const std::string& source, int arch) {
  Cache& c = cache();
  std::string key;
  for (const std::string& f : nvrtc_options(arch)) key += f + ' ';
  key += "\n" + source;
  std::string root;
  {
    std::lock_guard lock(c.mu);
    if (auto it = c.cubins.find(key); it != c.cubins.end()) return it->second;
    root = c.root;
  }
  // The disk cache's directory names what changes the code NVRTC makes: nx++'s version,
  // NVRTC's, the architecture (the source and options are the key).
  std::string dir = root.empty() ? "" : detail::cache_open_dir(root, "cuda", std::string("nx") + NX_VERSION + "-nvrtc" +
                                                                                nvrtc_version() + "-sm" + std::to_string(arch));
  std::string cubin;
  bool loaded = false;
  double ms = 0;
  if (!dir.empty())
    if (std::optional<std::string> hit = detail::cache_load(dir, key)) cubin = std::move(*hit), loaded = true;
  if (!loaded) {
    auto t0 = std::chrono::steady_clock::now();
    cubin = compile_cubin(source, arch);
    ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (!dir.empty()) detail::cache_store(dir, key, cubin);
  }
  std::lock_guard lock(c.mu);
  (loaded ? c.stats.loaded : c.stats.compiled) += 1;
  c.stats.compile_ms += ms;
  return c.cubins.emplace(key, std::move(cubin)).first->second;
}

NvrtcStats nvrtc_stats() {
  std::lock_guard lock(cache().mu);
  return cache().stats;
}

void set_cache_root(std::string dir) {
  std::lock_guard lock(cache().mu);
  cache().root = std::move(dir);
}

std::string cache_root() {
  std::lock_guard lock(cache().mu);
  return cache().root;
}

void forget_cubins() {
  std::lock_guard lock(cache().mu);
  cache().cubins.clear();
}

}  // namespace nx::cuda_backend
