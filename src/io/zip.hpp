// Internal: zip archives (for .npz; libdeflate inflates, zlib deflates) and gzip streams
// (for IDX; zlib, which streams when the size is unknown). Readers check
// every offset and size taken from the file against the bytes present before using it,
// and never let a declared size drive an allocation that the input cannot back.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "host_pool.hpp"
#include "nx/error.hpp"

namespace nx::detail {

// ---- writing ----
// Builds an archive member by member (each member's data can be freed after add()).
// zip64 records are written only where a size, offset or count needs them.
class ZipWriter {
 public:
  // `op` names the user-facing operation in errors.
  ZipWriter(const char* op, Where where) : op_(op), where_(where) {}
  // Stored as is, or raw-deflated at zlib's default level (as Python's zipfile does).
  void add(const std::string& name, std::span<const std::byte> data, bool deflate);
  std::vector<std::byte> finish();  // appends the central directory; the writer is spent

 private:
  struct Entry {
    std::string name;
    uint16_t method;
    uint32_t crc;
    uint64_t compressed_size, size, header_offset;
  };
  const char* op_;
  Where where_;
  std::vector<std::byte> out_;
  std::vector<Entry> entries_;
  std::set<std::string> names_;
};

// ---- reading ----
// A member whose data range lies inside the archive and overlaps no other member.
struct ZipEntry {
  std::string name;  // raw bytes (UTF-8 when the writer flagged it; we never touch the disk)
  bool deflated = false;
  uint32_t crc = 0;
  uint64_t header_offset = 0, data_offset = 0, compressed_size = 0, size = 0;
};
// The members listed by the central directory, validated. Refuses multi-disk archives,
// encrypted members, methods other than stored/deflate, duplicate names, overlapping
// members, and deflated members declaring more than deflate can produce from their bytes
// or more than kMaxInflatedBytes in total. zip64 archives are read.
inline constexpr uint64_t kMaxInflatedBytes = uint64_t{32} << 30;
std::vector<ZipEntry> zip_entries(std::span<const std::byte> archive, const char* op, Where where);

// Memory from the host pool (host_pool.hpp), given back to it.
struct HostBlockFree {
  size_t bytes;
  void operator()(std::byte* p) const { host_free(p, bytes); }
};
using HostBlock = std::unique_ptr<std::byte[], HostBlockFree>;

// A member's bytes, CRC-32 checked: a view into the archive when stored, else inflated in one
// pass into a buffer of the declared size (inflating to more or less is an error).
class ZipMember {
 public:
  ZipMember(std::span<const std::byte> archive, const ZipEntry& e, const char* op, Where where);
  std::span<const std::byte> bytes() const { return view_; }

 private:
  std::span<const std::byte> view_;
  HostBlock inflated_{nullptr, HostBlockFree{0}};  // what view_ shows, for a deflated member
};

// ---- gzip ----
bool is_gzip(std::span<const std::byte> bytes);  // starts with the 1f 8b magic

// Streams the decompressed bytes of gzip data (one or more concatenated members), so the
// caller decides how much to hold. zlib checks each member's CRC-32 and length trailer.
class GzipReader {
 public:
  GzipReader(std::span<const std::byte> gz, const char* op, Where where);
  ~GzipReader();
  GzipReader(const GzipReader&) = delete;
  GzipReader& operator=(const GzipReader&) = delete;
  // Fills up to n bytes; returns fewer only when the data ends (truncation is an error).
  size_t read(std::byte* dst, size_t n);

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace nx::detail
