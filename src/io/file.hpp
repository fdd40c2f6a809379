// Whole-file reads (mapped or copied), atomic writes, and quoting of untrusted names for
// error messages: shared by the io readers and writers. Internal: not installed.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "nx/error.hpp"

namespace nx::detail {

// A whole file: mapped read-only (`mmap`) or read into memory. `keep` owns the bytes.
struct FileBytes {
  std::span<const std::byte> bytes;
  std::shared_ptr<void> keep;
};
FileBytes read_whole_file(const std::string& path, bool mmap, const char* op, Where where);

// Writes a file atomically: into a fresh temporary file next to `path`, which commit()
// fsyncs and renames over `path` (then fsyncs the directory). Destroyed uncommitted, it
// removes the temporary file, so `path` is never left half-written. A symlink `path` is
// followed: its target is written and the link stays. An existing file's permission bits
// are kept (the owner is not: that would need privileges).
class AtomicFile {
 public:
  AtomicFile(const std::string& path, const char* op, Where where);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  void write(const void* data, size_t n);
  void write_at(uint64_t offset, const void* data, size_t n);  // overwrite written bytes
  void commit();
  const std::string& temp_path() const { return temp_; }

 private:
  [[noreturn]] void fail(const std::string& what);
  std::string path_, temp_;
  const char* op_;
  Where where_;
  int fd_ = -1;
};

// A file name or other untrusted text made fit for an error message: JSON-quoted, cut short.
std::string quoted_for_error(std::string_view text);

}  // namespace nx::detail
