// .npz archives: zip files of .npy members, as numpy.savez / numpy.savez_compressed write
// them and numpy.load reads them. The array named "w" is the member "w.npy".
//
//   nx::io::save_npz("params.npz", {{"w", w}, {"b", b}}, {.compress = true});
//   nx::io::TensorDict p = nx::io::load_npz("params.npz");  // p.at("w")
//
// Loading is defensive: the central directory is bounds-checked before use; members must be
// .npy files, unencrypted, stored or deflated, uniquely named, non-overlapping, and match their
// CRC-32. A deflated member must inflate to exactly its declared size, which may not exceed what
// deflate can produce from its bytes (1032:1), and all deflated members together may declare at
// most 32 GiB. zip64 archives (numpy writes them for large arrays) are read and written.
// Errors are nx::ValueError naming load_npz / save_npz and the member.
#pragma once
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "nx/io.hpp"

namespace nx::io {

struct NpzOpts {
  bool compress = false;  // deflate each member (numpy.savez_compressed); else stored (numpy.savez)
};

void save_npz(const std::string& path, const TensorDict& arrays, NpzOpts opts = {}, Where where = Where::current());
TensorDict load_npz(const std::string& path, Where where = Where::current());

// In-memory forms (the file functions call these).
std::vector<std::byte> encode_npz(const TensorDict& arrays, NpzOpts opts = {}, Where where = Where::current());
TensorDict decode_npz(std::span<const std::byte> bytes, Where where = Where::current());

}  // namespace nx::io
