// safetensors files (https://github.com/huggingface/safetensors), the Hugging Face format
// for named tensors:
//
//   nx::io::save_safetensors("model.safetensors", {{"w", w}, {"b", b}}, {{"author", "me"}});
//   nx::io::Safetensors f = nx::io::load_safetensors("model.safetensors");
//   nx::Tensor w = f.tensors.at("w");
//
// Layout: an 8-byte little-endian header length N, N bytes of UTF-8 JSON
// {"__metadata__": {str: str}, name: {"dtype", "shape", "data_offsets": [begin, end]}, ...},
// then the data section, which the tensors' byte ranges tile exactly.
//
// Reading is defensive: N is capped at 100 MB; the JSON is parsed strictly (duplicate names
// refused); every entry must have exactly the fields dtype, shape and data_offsets; shapes
// have rank <= 8 and a byte size that fits in int64; each range must be as long as its
// shape needs and lie in the data section, and the ranges must cover it with no hole or
// overlap. Dtypes nx has no type for (I8, I16, U16, U64, F8_*, C64, ...) are refused by name.
// Every failure is an nx::ValueError saying what is wrong with the file.
//
// Writing follows the reference writer: the header is padded with spaces to a multiple of
// 8 bytes, and the data is ordered by decreasing element size, then by name, so every
// tensor is aligned to its element size; "__metadata__" is omitted when empty.
#pragma once
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "nx/io.hpp"

namespace nx::io {

struct Safetensors {
  TensorDict tensors;
  std::map<std::string, std::string> metadata;
};

// Tensors must be concrete (not traced inside nx::jit); names and metadata must be valid
// UTF-8, and no tensor may be called "__metadata__".
void save_safetensors(const std::string& path, const TensorDict& tensors,
                      const std::map<std::string, std::string>& metadata = {},
                      Where where = Where::current());

struct SafetensorsLoadOpts {
  // true: map the file read-only and let the tensors view it without a copy (the mapping
  // lives until the last tensor from it is gone; the file should not be truncated or
  // rewritten in place meanwhile). false: read the file into memory.
  bool mmap = true;
};
Safetensors load_safetensors(const std::string& path, SafetensorsLoadOpts opts = {},
                             Where where = Where::current());

// In-memory forms. decode copies the tensors out of `bytes`.
std::vector<std::byte> encode_safetensors(const TensorDict& tensors,
                                          const std::map<std::string, std::string>& metadata = {},
                                          Where where = Where::current());
Safetensors decode_safetensors(std::span<const std::byte> bytes, Where where = Where::current());

}  // namespace nx::io
