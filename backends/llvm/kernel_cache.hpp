// Compiled kernels on disk, so a second process loads them instead of compiling: one
// file per kernel (its spec key and its object code, checksummed), in a directory per
// nx++ version, LLVM version and CPU. A file that is missing, truncated, corrupt or for
// another key is a miss; writes are atomic (a temporary file renamed into place).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace nx::llvm_backend {

// $NX_CACHE_DIR, else $XDG_CACHE_HOME/nxpp, else $HOME/.cache/nxpp, else "" (no cache).
std::string default_cache_root();

// 64-bit FNV-1a: file names and checksums.
uint64_t fnv1a(std::string_view bytes);

// A cache file's bytes for (key, object), and the object back from such bytes: nullopt
// unless they are intact and for `key` (tests/fuzz/fuzz_kernel_cache.cpp feeds it
// hostile bytes).
std::string cache_file(std::string_view key, std::string_view object);
std::optional<std::string> cache_object(std::string_view file, std::string_view key);

// The object code stored for `key` under dir, if any and intact.
std::optional<std::string> cache_load(const std::string& dir, const std::string& key);
// Stores it; a failure to write (read-only disk, full disk) is ignored: the cache is an
// optimisation.
void cache_store(const std::string& dir, const std::string& key, std::string_view object);

}  // namespace nx::llvm_backend
