// Compiled kernels on disk, so a second process loads them instead of compiling: one
// file per kernel (its spec key and its object code, checksummed), in a directory per
// nx++ version, compiler version and target (CPU or GPU), under a directory per backend
// (<root>/llvm, <root>/cuda). A file that is missing, truncated, corrupt or for
// another key is a miss. The process runs what it loads, so directories and files
// another user could write (or plant a link in) are refused; writes go to a fresh
// temporary file that is renamed into place only once complete on disk; the least
// recently used files go when the cache outgrows its limit.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace nx::detail {

// $NX_CACHE_DIR, else $XDG_CACHE_HOME/nxpp, else $HOME/.cache/nxpp, else "" (no cache).
std::string default_cache_root();

// 64-bit FNV-1a: file names and checksums.
uint64_t fnv1a(std::string_view bytes);

// A cache file's bytes for (key, object), and the object back from such bytes: nullopt
// unless they are intact and for `key` (tests/fuzz/fuzz_kernel_cache.cpp feeds it
// hostile bytes).
std::string cache_file(std::string_view key, std::string_view object);
std::optional<std::string> cache_object(std::string_view file, std::string_view key);

// <root>/<backend>/<version>, making each missing level with mode 0700; "" when it
// cannot be made, or (with one warning per process) when the root or a level under it is
// not a directory of this user's that only this user can write.
std::string cache_open_dir(const std::string& root, const std::string& backend, const std::string& version);

// Where key's file is in dir (a directory from cache_open_dir).
std::string cache_path(const std::string& dir, const std::string& key);

// The object code stored for `key` under dir, if any and intact. A file that is a link,
// not this user's, or writable by others is a miss (with the one warning). A hit
// counts as a use: its modification time becomes now.
std::optional<std::string> cache_load(const std::string& dir, const std::string& key);
// Stores it; a failure to write (read-only disk, full disk) is ignored, leaving no file:
// the cache is an optimisation. Then keeps the cache under its limit (cache_trim).
void cache_store(const std::string& dir, const std::string& key, std::string_view object);

// Deletes the least recently modified files in the version directories under
// backend_dir (<root>/<backend>) until the rest fit in the limit, and the version
// directories that leaves empty. Returns the bytes that remain.
uint64_t cache_trim(const std::string& backend_dir);

// The most bytes each backend's directory keeps, over all versions: $NX_CACHE_MAX_BYTES,
// else 256 MiB (llvm_jit::set_disk_cache_limit sets it).
void set_cache_limit(uint64_t bytes);
uint64_t cache_limit();

// Tests: the next refusal warns again.
void cache_rearm_warning();

}  // namespace nx::detail
