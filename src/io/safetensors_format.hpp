// The safetensors layout, shared by the safetensors and checkpoint readers and writers.
// Internal: not installed.
#pragma once
#include <functional>
#include <memory>

#include "io/file.hpp"
#include "nx/io/safetensors.hpp"

// In nx::detail (not nx::io::detail) so that `detail::` inside nx::io keeps meaning nx::detail.
namespace nx::detail {

struct SafetensorsEntry {
  std::string name;
  DType dtype = DType::f32;
  Shape shape;
  uint64_t begin = 0, end = 0;  // within the data section
};

// A validated header.
struct SafetensorsLayout {
  std::vector<SafetensorsEntry> entries;  // in data order
  std::map<std::string, std::string> metadata;
  // For each metadata value: the file offset of its JSON string (the opening quote).
  std::map<std::string, size_t> metadata_offsets;
  size_t data_start = 0;  // file offset of the data section
};

// Parses and checks the header of the complete file `file`; errors name `op`.
SafetensorsLayout parse_safetensors(std::span<const std::byte> file, const char* op, Where where);

// The tensors of `layout`. With `keep` set they view `file` without copying (keep owns the
// memory); otherwise they are copies.
io::TensorDict safetensors_tensors(const SafetensorsLayout& layout, std::span<const std::byte> file,
                               std::shared_ptr<void> keep, const char* op, Where where);

// What a writer emits: `header` (length prefix, padded JSON) followed by each tensor of
// `order` in turn.
struct SafetensorsPlan {
  std::string header;
  std::vector<const io::TensorDict::value_type*> order;
  std::map<std::string, size_t> metadata_offsets;  // as in SafetensorsLayout
  uint64_t data_bytes = 0;
};
SafetensorsPlan plan_safetensors(const io::TensorDict& tensors, const std::map<std::string, std::string>& metadata,
                                 const char* op, Where where);
// Calls `sink` with the raw little-endian bytes of `t`, in one or more pieces.
void tensor_bytes(const Tensor& t, const std::function<void(const std::byte*, size_t)>& sink);

}  // namespace nx::detail
