// Reading and writing tensors. .npy: little-endian, C order on write; versions 1.0-3.0,
// either byte order and Fortran order on read. bf16 is written with numpy's raw 2-byte
// void descr '<V2' (what ml_dtypes' bfloat16 saves as) and read back as bf16.
#pragma once
#include <cstddef>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "nx/tensor.hpp"

namespace nx::io {

// Named tensors, as in .npz archives, safetensors files and PyTorch state dicts.
using TensorDict = std::map<std::string, Tensor>;

void save_npy(const std::string& path, const Tensor& t, Where where = Where::current());
Tensor load_npy(const std::string& path, Where where = Where::current());

// Writes `bytes` to `path` as every saver here does: a temporary file next to it, fsynced,
// renamed over it (a symlink followed, the old file's mode kept), so a reader sees the
// old file or the new one, never half of one. ValueError naming `op` when it cannot.
void save_file(const std::string& path, std::string_view bytes, const char* op = "io.save_file",
               Where where = Where::current());

// In-memory forms (the file functions call these).
std::vector<std::byte> encode_npy(const Tensor& t, Where where = Where::current());
Tensor decode_npy(std::span<const std::byte> bytes, Where where = Where::current());

}  // namespace nx::io

// The other formats (nx/io/dlpack.hpp, which needs <dlpack/dlpack.h>, is included on demand).
#include "nx/io/checkpoint.hpp"
#include "nx/io/csv.hpp"
#include "nx/io/idx.hpp"
#include "nx/io/npz.hpp"
#include "nx/io/safetensors.hpp"
#include "nx/io/state_dict.hpp"
