#include "kernel_cache.hpp"

#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace nx::llvm_backend {
namespace {

constexpr char kMagic[8] = {'N', 'X', 'K', 'E', 'R', 'N', '1', '\n'};

std::string path_for(const std::string& dir, const std::string& key) {
  char name[32];
  std::snprintf(name, sizeof name, "%016llx.o", static_cast<unsigned long long>(fnv1a(key)));
  return dir + "/" + name;
}

void put_u64(std::string& s, uint64_t v) {
  for (int i = 0; i < 8; ++i) s += static_cast<char>((v >> (8 * i)) & 0xff);
}
bool get_u64(std::string_view& s, uint64_t& v) {
  if (s.size() < 8) return false;
  v = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t{static_cast<unsigned char>(s[static_cast<size_t>(i)])} << (8 * i);
  s.remove_prefix(8);
  return true;
}

}  // namespace

uint64_t fnv1a(std::string_view bytes) {
  uint64_t h = 1469598103934665603ull;
  for (char c : bytes) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  return h;
}

std::string default_cache_root() {
  if (const char* d = std::getenv("NX_CACHE_DIR")) return d;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/nxpp";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.cache/nxpp";
  return "";
}

// Layout: magic, key size, key, object size, object checksum, object.
std::string cache_file(std::string_view key, std::string_view object) {
  std::string file(kMagic, sizeof kMagic);
  put_u64(file, key.size());
  file += key;
  put_u64(file, object.size());
  put_u64(file, fnv1a(object));
  file += object;
  return file;
}

std::optional<std::string> cache_object(std::string_view s, std::string_view key) {
  uint64_t key_size = 0, object_size = 0, sum = 0;
  if (s.size() < sizeof kMagic || std::memcmp(s.data(), kMagic, sizeof kMagic) != 0) return std::nullopt;
  s.remove_prefix(sizeof kMagic);
  if (!get_u64(s, key_size) || key_size > s.size() || s.substr(0, key_size) != key) return std::nullopt;
  s.remove_prefix(key_size);
  if (!get_u64(s, object_size) || !get_u64(s, sum) || object_size != s.size() || fnv1a(s) != sum) return std::nullopt;
  return std::string(s);
}

std::optional<std::string> cache_load(const std::string& dir, const std::string& key) {
  std::ifstream in(path_for(dir, key), std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream buf;
  buf << in.rdbuf();
  return cache_object(buf.str(), key);
}

void cache_store(const std::string& dir, const std::string& key, std::string_view object) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return;
  std::string file = cache_file(key, object);
  std::string final_path = path_for(dir, key);
  static std::atomic<uint64_t> serial{0};
  std::string temp = final_path + ".tmp" + std::to_string(::getpid()) + "." + std::to_string(serial++);
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (!out.write(file.data(), static_cast<std::streamsize>(file.size()))) {
      out.close();
      std::filesystem::remove(temp, ec);
      return;
    }
  }
  std::filesystem::rename(temp, final_path, ec);
  if (ec) std::filesystem::remove(temp, ec);
}

}  // namespace nx::llvm_backend
