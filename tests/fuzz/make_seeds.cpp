// Writes the fuzzers' seed corpora: valid files of each format written by nx++ itself,
// plus truncated and bit-flipped copies. Usage: nx_fuzz_seeds OUTDIR (-> OUTDIR/<format>/).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "nx/detail/kernel_cache.hpp"
#include "nx/io/checkpoint.hpp"
#include "nx/io/npz.hpp"
#include "nx/io/safetensors.hpp"
#include "nx/nx.hpp"

namespace {

using Bytes = std::vector<std::byte>;
namespace fs = std::filesystem;

void write(const fs::path& p, const Bytes& b) {
  std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

// The file, its prefixes at a few lengths, and single-bit flips through the header.
void emit(const fs::path& dir, const std::string& name, const Bytes& b) {
  fs::create_directories(dir);
  write(dir / (name + ".valid"), b);
  for (size_t cut : {b.size() / 2, b.size() * 9 / 10, b.size() > 0 ? b.size() - 1 : 0, size_t{12}})
    if (cut < b.size()) write(dir / (name + ".cut" + std::to_string(cut)), Bytes(b.begin(), b.begin() + static_cast<long>(cut)));
  for (size_t at : {size_t{3}, size_t{9}, size_t{20}, b.size() / 3})
    if (at < b.size()) {
      Bytes f = b;
      f[at] ^= std::byte{0x10};
      write(dir / (name + ".flip" + std::to_string(at)), f);
    }
}

Bytes text(const std::string& s) {
  Bytes b(s.size());
  for (size_t i = 0; i < s.size(); ++i) b[i] = static_cast<std::byte>(s[i]);
  return b;
}

// IDX: big-endian dims after the 4-byte magic (0, 0, type, rank).
Bytes idx_u8(const std::vector<uint32_t>& dims) {
  Bytes b{std::byte{0}, std::byte{0}, std::byte{0x08}, static_cast<std::byte>(dims.size())};
  size_t n = 1;
  for (uint32_t d : dims) {
    n *= d;
    for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<std::byte>(d >> s));
  }
  for (size_t i = 0; i < n; ++i) b.push_back(static_cast<std::byte>(i * 7));
  return b;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
    return 2;
  }
  fs::path out = argv[1];
  nx::io::TensorDict dict{{"weight", nx::reshape(nx::arange(6.0), {2, 3})},
                          {"bias", nx::ones({3}, nx::f16)},
                          {"step", nx::scalar(7, nx::i64)},
                          {"mask", nx::tensor({true, false})}};
  emit(out / "npy", "f32", nx::io::encode_npy(dict.at("weight")));
  emit(out / "kernel_cache", "object", text(nx::detail::cache_file("fuzz-key", std::string(300, '\x7f') + "ELF")));
  emit(out / "npy", "bool", nx::io::encode_npy(dict.at("mask")));
  emit(out / "npz", "stored", nx::io::encode_npz(dict));
  emit(out / "npz", "deflated", nx::io::encode_npz(dict, {.compress = true}));
  emit(out / "safetensors", "dict", nx::io::encode_safetensors(dict, {{"format", "pt"}}));
  emit(out / "checkpoint", "ckpt",
       nx::io::encode_checkpoint({.params = dict, .optimizer_state = {{"mu", nx::zeros({3})}}, .step = 12,
                                  .metadata = {{"run", "seed"}}}));
  emit(out / "idx", "images", idx_u8({2, 3, 3}));
  emit(out / "idx", "labels", idx_u8({5}));
  emit(out / "csv", "table", text("a,b,\"c d\"\n1,2.5,-3e4\n4,,6\r\n\"7\",8,9\n"));
  emit(out / "csv", "noheader", text("1;2\n3;4\n"));
  return 0;
}
