// Training checkpoints: parameters, optimizer state, the step and free-form metadata in one
// file, saved atomically and verified by a checksum on load.
//
//   nx::io::Checkpoint c;
//   c.params = nx::io::to_state_dict(model);       // see nx/io/state_dict.hpp
//   c.optimizer_state = nx::io::to_state_dict(opt_state);
//   c.step = step;
//   nx::io::save_checkpoint("run/ckpt.safetensors", c);
//   nx::io::Checkpoint r = nx::io::load_checkpoint("run/ckpt.safetensors");
//
// The file is an ordinary safetensors file (any safetensors reader opens it) with tensors
// "params.<name>" and "optimizer_state.<name>" and metadata "nx.format" = "nx-checkpoint-1",
// "nx.step" (decimal), "nx.checksum" and the user's entries as "user.<key>".
//
// "nx.checksum" is nx-hash64 (below) of the whole file, computed with the checksum's own 16
// hex digits replaced by "0000000000000000", written as 16 lowercase hex digits. Loading
// recomputes it the same way and refuses a file whose bytes changed.
//
// save_checkpoint writes a uniquely named temporary file next to the file `path` names (a
// symlink is followed, and stays a link), fsyncs it, renames it over that file, keeping an
// existing file's permission bits, and fsyncs the directory. A process killed mid-save
// leaves the previous checkpoint intact (and possibly a stray "<path>.tmp-*" file); on
// errors the temporary file is removed.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "nx/io.hpp"

namespace nx::io {

struct Checkpoint {
  TensorDict params;
  TensorDict optimizer_state;
  int64_t step = 0;
  std::map<std::string, std::string> metadata;
};

void save_checkpoint(const std::string& path, const Checkpoint& c, Where where = Where::current());
// Maps the file; the tensors view it without a copy (see SafetensorsLoadOpts::mmap).
Checkpoint load_checkpoint(const std::string& path, Where where = Where::current());

// In-memory forms. decode copies the tensors out of `bytes`.
std::vector<std::byte> encode_checkpoint(const Checkpoint& c, Where where = Where::current());
Checkpoint decode_checkpoint(std::span<const std::byte> bytes, Where where = Where::current());

}  // namespace nx::io

namespace nx::detail {

// nx-hash64, a fast non-cryptographic 64-bit checksum (several GB/s), streamed through
// update(). With P1 = 0x9E3779B97F4A7C15, P2 = 0xC2B2AE3D27D4EB4F, P3 = 0x165667B19E3779F9,
// rotl = 64-bit left rotation and all arithmetic mod 2^64:
//   lanes v[i] = P3 * (i + 1), i = 0..3;
//   the input is cut into 32-byte blocks, the last one padded with zero bytes;
//   for each block and i = 0..3, with w = the block's i-th little-endian u64:
//     v[i] = rotl(v[i] + w * P2, 31) * P1;
//   h = length_in_bytes * P1; for i = 0..3: h = rotl(h ^ (rotl(v[i] * P2, 31) * P1), 27) * P1 + P3;
//   h ^= h >> 33; h *= P2; h ^= h >> 29; h *= P3; h ^= h >> 32.
class Hash64 {
 public:
  Hash64();
  void update(const std::byte* data, size_t n);
  uint64_t digest() const;

 private:
  void block(const std::byte* p);
  uint64_t lane_[4];
  std::byte pending_[32];
  size_t buffered_ = 0;
  uint64_t total_ = 0;
};

}  // namespace nx::detail
