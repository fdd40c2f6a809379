// Zip archives (inflated with libdeflate, deflated with zlib) and gzip streams (zlib, which
// streams). The zip layout is PKWARE's APPNOTE: local headers + data, then the central
// directory, then the end record (with zip64 records when a field overflows). Readers trust
// the central directory only after bounds-checking it.
#include "io/zip.hpp"

#include <libdeflate.h>
#include <zlib.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <new>
#include <numeric>

namespace nx::detail {
namespace {

constexpr uint32_t kLocalSig = 0x04034b50, kCentralSig = 0x02014b50, kEndSig = 0x06054b50;
constexpr uint32_t kEnd64Sig = 0x06064b50, kLocator64Sig = 0x07064b50;
constexpr uint64_t kMax32 = 0xFFFFFFFF;  // a saturated field: the value is in the zip64 extra
constexpr uint64_t kMax16 = 0xFFFF;
constexpr uint16_t kStored = 0, kDeflated = 8;
constexpr uint16_t kZip64ExtraId = 0x0001;
constexpr size_t kLocalFixed = 30, kCentralFixed = 46, kEndFixed = 22, kEnd64Fixed = 56, kLocatorSize = 20;
constexpr uint64_t kDeflateMaxRatio = 1032;  // deflate's best case: 258 bytes from 2 bits
constexpr size_t kZChunk = size_t{1} << 30;   // zlib counts in 32-bit uInt

std::string quoted(const std::string& name) { return "'" + name + "'"; }

// Little-endian reads with every range checked against the archive.
struct In {
  std::span<const std::byte> b;
  const char* op;
  Where where;
  [[noreturn]] void bad(const std::string& what) const { throw ValueError(op, what, where); }
  bool fits(uint64_t at, uint64_t n) const { return at <= b.size() && n <= b.size() - at; }
  void need(uint64_t at, uint64_t n, const std::string& what) const {
    if (!fits(at, n)) bad(what + " lies outside the archive (truncated or corrupt)");
  }
  uint64_t le(uint64_t at, int n) const {
    need(at, static_cast<uint64_t>(n), "a header field");
    uint64_t v = 0;
    for (int i = 0; i < n; ++i) v |= static_cast<uint64_t>(b[at + static_cast<uint64_t>(i)]) << (8 * i);
    return v;
  }
  uint16_t u16(uint64_t at) const { return static_cast<uint16_t>(le(at, 2)); }
  uint32_t u32(uint64_t at) const { return static_cast<uint32_t>(le(at, 4)); }
  uint64_t u64(uint64_t at) const { return le(at, 8); }
  std::string str(uint64_t at, uint64_t n) const {
    need(at, n, "a name");
    return {reinterpret_cast<const char*>(b.data() + at), static_cast<size_t>(n)};
  }
};

void put(std::vector<std::byte>& out, uint64_t v, int n) {
  for (int i = 0; i < n; ++i) out.push_back(static_cast<std::byte>(v >> (8 * i)));
}
void put_str(std::vector<std::byte>& out, const std::string& s) {
  for (char c : s) out.push_back(static_cast<std::byte>(c));
}

uint32_t crc_of(std::span<const std::byte> d) { return libdeflate_crc32(0, d.data(), d.size()); }
// zlib's input pointer is not const, but zlib never writes through it.
Bytef* zin(const std::byte* p) { return reinterpret_cast<Bytef*>(const_cast<std::byte*>(p)); }
uInt chunk(uint64_t n) { return static_cast<uInt>(std::min<uint64_t>(n, kZChunk)); }

struct DeflateStream {
  z_stream z{};
  ~DeflateStream() { deflateEnd(&z); }
};
struct InflateStream {
  z_stream z{};
  bool live = false;
  ~InflateStream() {
    if (live) inflateEnd(&z);
  }
};

std::vector<std::byte> deflate_raw(std::span<const std::byte> in, const char* op, Where where) {
  DeflateStream s;
  if (deflateInit2(&s.z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw ValueError(op, "zlib could not start a deflate stream", where);
  std::vector<std::byte> out(deflateBound(&s.z, in.size()));
  size_t in_pos = 0, out_pos = 0;
  int flush = Z_NO_FLUSH, rc = Z_OK;
  while (rc != Z_STREAM_END) {
    if (s.z.avail_in == 0 && flush != Z_FINISH) {
      s.z.next_in = zin(in.data() + in_pos);
      s.z.avail_in = chunk(in.size() - in_pos);
      in_pos += s.z.avail_in;
      if (in_pos == in.size()) flush = Z_FINISH;
    }
    if (out_pos == out.size()) out.resize(out.size() + out.size() / 2 + 64);
    s.z.next_out = reinterpret_cast<Bytef*>(out.data() + out_pos);
    uInt room = chunk(out.size() - out_pos);
    s.z.avail_out = room;
    rc = deflate(&s.z, flush);
    if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR)
      throw ValueError(op, "zlib deflate failed (code " + std::to_string(rc) + ")", where);
    out_pos += room - s.z.avail_out;
  }
  out.resize(out_pos);
  return out;
}

// Raw deflate data that must inflate to exactly `size` bytes. libdeflate inflates the whole
// member in one call (zip headers give the size), faster than zlib streaming (docs/PERFORMANCE.md: npz load).
HostBlock inflate_exact(std::span<const std::byte> in, uint64_t size, const std::string& what, const char* op,
                        Where where) {
  auto bad = [&](const std::string& why) { throw ValueError(op, what + ": " + why, where); };
  std::unique_ptr<libdeflate_decompressor, void (*)(libdeflate_decompressor*)> d(libdeflate_alloc_decompressor(),
                                                                              libdeflate_free_decompressor);
  if (!d) bad("libdeflate could not allocate a decompressor");
  // Not value-initialised: pages a bad stream never reaches stay untouched, so a false
  // size (bounded by zip_entries) costs address space rather than memory.
  // From the host pool: large blocks come on huge pages, which halves the cost of
  // filling them.
  HostBlock out(nullptr, HostBlockFree{static_cast<size_t>(size)});
  try {
    out.reset(static_cast<std::byte*>(host_alloc(static_cast<size_t>(size))));
  } catch (const Error&) {
    bad("cannot allocate the declared " + std::to_string(size) + " bytes");
  }
  size_t produced = 0;
  libdeflate_result rc =
      libdeflate_deflate_decompress(d.get(), in.data(), in.size(), out.get(), static_cast<size_t>(size), &produced);
  if (rc == LIBDEFLATE_INSUFFICIENT_SPACE)
    bad("the data inflates to more than the declared " + std::to_string(size) + " bytes");
  if (rc != LIBDEFLATE_SUCCESS) bad("corrupt or truncated deflate data");
  if (produced != size)
    bad("the data inflates to " + std::to_string(produced) + " bytes, not the declared " + std::to_string(size));
  return out;
}

}  // namespace

// ---- writing ----

void ZipWriter::add(const std::string& name, std::span<const std::byte> data, bool deflate) {
  if (name.size() > kMax16)
    throw ValueError(op_, "member name of " + std::to_string(name.size()) + " bytes is too long for zip", where_);
  if (!names_.insert(name).second) throw ValueError(op_, "duplicate member name " + quoted(name), where_);
  std::vector<std::byte> packed;
  if (deflate) packed = deflate_raw(data, op_, where_);
  std::span<const std::byte> body = deflate ? std::span<const std::byte>(packed) : data;
  Entry e{name, deflate ? kDeflated : kStored, crc_of(data), body.size(), data.size(), out_.size()};
  bool zip64 = e.size >= kMax32 || e.compressed_size >= kMax32;
  bool utf8 = std::any_of(name.begin(), name.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
  put(out_, kLocalSig, 4);
  put(out_, zip64 ? 45 : 20, 2);           // version needed: 4.5 for zip64, else 2.0
  put(out_, utf8 ? 0x800 : 0, 2);          // general purpose flags: bit 11 = UTF-8 name
  put(out_, e.method, 2);
  put(out_, 0, 2);                         // time 00:00:00
  put(out_, 0x21, 2);                      // date 1980-01-01: output does not depend on the clock
  put(out_, e.crc, 4);
  put(out_, zip64 ? kMax32 : e.compressed_size, 4);
  put(out_, zip64 ? kMax32 : e.size, 4);
  put(out_, name.size(), 2);
  put(out_, zip64 ? 20 : 0, 2);
  put_str(out_, name);
  if (zip64) {
    put(out_, kZip64ExtraId, 2);
    put(out_, 16, 2);
    put(out_, e.size, 8);
    put(out_, e.compressed_size, 8);
  }
  out_.insert(out_.end(), body.begin(), body.end());
  entries_.push_back(std::move(e));
}

std::vector<std::byte> ZipWriter::finish() {
  uint64_t cd_offset = out_.size();
  for (const Entry& e : entries_) {
    // zip64 extra: only the saturated fields, in the order size, compressed size, offset.
    std::vector<std::byte> extra;
    if (e.size >= kMax32) put(extra, e.size, 8);
    if (e.compressed_size >= kMax32) put(extra, e.compressed_size, 8);
    if (e.header_offset >= kMax32) put(extra, e.header_offset, 8);
    bool zip64 = !extra.empty();
    bool utf8 = std::any_of(e.name.begin(), e.name.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
    put(out_, kCentralSig, 4);
    put(out_, (3 << 8) | (zip64 ? 45 : 20), 2);  // made by: Unix, spec version
    put(out_, zip64 ? 45 : 20, 2);
    put(out_, utf8 ? 0x800 : 0, 2);
    put(out_, e.method, 2);
    put(out_, 0, 2);
    put(out_, 0x21, 2);
    put(out_, e.crc, 4);
    put(out_, std::min(e.compressed_size, kMax32), 4);
    put(out_, std::min(e.size, kMax32), 4);
    put(out_, e.name.size(), 2);
    put(out_, zip64 ? extra.size() + 4 : 0, 2);
    put(out_, 0, 2);                  // comment length
    put(out_, 0, 2);                  // disk number
    put(out_, 0, 2);                  // internal attributes
    put(out_, uint64_t{0644} << 16, 4);  // external attributes: rw-r--r--
    put(out_, std::min(e.header_offset, kMax32), 4);
    put_str(out_, e.name);
    if (zip64) {
      put(out_, kZip64ExtraId, 2);
      put(out_, extra.size(), 2);
      out_.insert(out_.end(), extra.begin(), extra.end());
    }
  }
  uint64_t cd_size = out_.size() - cd_offset;
  uint64_t count = entries_.size();
  if (count >= kMax16 || cd_size >= kMax32 || cd_offset >= kMax32) {
    uint64_t end64 = out_.size();
    put(out_, kEnd64Sig, 4);
    put(out_, kEnd64Fixed - 12, 8);  // size of the rest of this record
    put(out_, (3 << 8) | 45, 2);
    put(out_, 45, 2);
    put(out_, 0, 4);
    put(out_, 0, 4);
    put(out_, count, 8);
    put(out_, count, 8);
    put(out_, cd_size, 8);
    put(out_, cd_offset, 8);
    put(out_, kLocator64Sig, 4);
    put(out_, 0, 4);
    put(out_, end64, 8);
    put(out_, 1, 4);  // total number of disks
  }
  put(out_, kEndSig, 4);
  put(out_, 0, 2);
  put(out_, 0, 2);
  put(out_, std::min(count, kMax16), 2);
  put(out_, std::min(count, kMax16), 2);
  put(out_, std::min(cd_size, kMax32), 4);
  put(out_, std::min(cd_offset, kMax32), 4);
  put(out_, 0, 2);  // comment length
  entries_.clear();
  names_.clear();
  return std::move(out_);
}

// ---- reading ----

namespace {

struct Directory {
  uint64_t count, offset, size;
  uint64_t end;  // where the central directory must end (the first end record)
};

Directory find_directory(const In& in) {
  if (in.b.size() < kEndFixed) in.bad("not a zip archive (too short for an end record)");
  // The end record is the last 22 bytes plus a comment of up to 64 KiB: search backwards
  // for a signature whose comment length reaches exactly the end of the file.
  uint64_t pos = in.b.size() - kEndFixed;
  uint64_t lowest = pos > kMax16 ? pos - kMax16 : 0;
  for (;; --pos) {
    if (in.u32(pos) == kEndSig && pos + kEndFixed + in.u16(pos + 20) == in.b.size()) break;
    if (pos == lowest) in.bad("not a zip archive (no end-of-central-directory record)");
  }
  uint64_t disk = in.u16(pos + 4), cd_disk = in.u16(pos + 6);
  Directory d{in.u16(pos + 10), in.u32(pos + 16), in.u32(pos + 12), pos};
  uint64_t disk_count = in.u16(pos + 8);
  if (pos >= kLocatorSize && in.u32(pos - kLocatorSize) == kLocator64Sig) {
    uint64_t locator = pos - kLocatorSize;
    uint64_t at = in.u64(locator + 8);
    if (in.u32(locator + 4) != 0 || in.u32(locator + 16) > 1) in.bad("multi-disk zip archives are not supported");
    if (at > locator || locator - at < kEnd64Fixed || in.u32(at) != kEnd64Sig)
      in.bad("the zip64 end record is missing or misplaced");
    disk = in.u32(at + 16);
    cd_disk = in.u32(at + 20);
    disk_count = in.u64(at + 24);
    d = Directory{in.u64(at + 32), in.u64(at + 48), in.u64(at + 40), at};
  }
  if (disk != 0 || cd_disk != 0 || disk_count != d.count) in.bad("multi-disk zip archives are not supported");
  if (d.offset > d.end || d.size > d.end - d.offset)
    in.bad("the central directory (offset " + std::to_string(d.offset) + ", " + std::to_string(d.size) +
           " bytes) lies outside the archive");
  if (d.count > d.size / kCentralFixed)
    in.bad("the central directory declares " + std::to_string(d.count) + " entries but has room for at most " +
           std::to_string(d.size / kCentralFixed));
  return d;
}

// Replaces saturated fields by their values from the zip64 extra field.
void apply_zip64_extra(const In& in, uint64_t at, uint64_t len, ZipEntry& e, uint64_t& disk) {
  uint64_t end = at + len;
  while (end - at >= 4) {
    uint16_t id = in.u16(at), size = in.u16(at + 2);
    at += 4;
    if (size > end - at) in.bad("malformed extra field in entry " + quoted(e.name));
    if (id == kZip64ExtraId) {
      uint64_t p = at, stop = at + size;
      auto take = [&](uint64_t& field, uint64_t saturated, int bytes) {
        if (field != saturated) return;
        if (stop - p < static_cast<uint64_t>(bytes)) in.bad("truncated zip64 extra field in entry " + quoted(e.name));
        field = in.le(p, bytes);
        p += static_cast<uint64_t>(bytes);
      };
      take(e.size, kMax32, 8);
      take(e.compressed_size, kMax32, 8);
      take(e.header_offset, kMax32, 8);
      take(disk, kMax16, 4);
    }
    at += size;
  }
}

}  // namespace

std::vector<ZipEntry> zip_entries(std::span<const std::byte> archive, const char* op, Where where) {
  In in{archive, op, where};
  Directory d = find_directory(in);
  std::vector<ZipEntry> entries;
  entries.reserve(static_cast<size_t>(d.count));
  std::set<std::string> names;
  uint64_t p = d.offset, cd_end = d.offset + d.size, inflated_total = 0;
  for (uint64_t i = 0; i < d.count; ++i) {
    if (cd_end - p < kCentralFixed || in.u32(p) != kCentralSig)
      in.bad("central directory entry " + std::to_string(i) + " is missing or corrupt");
    uint16_t flags = in.u16(p + 8), method = in.u16(p + 10);
    uint64_t name_len = in.u16(p + 28), extra_len = in.u16(p + 30), comment_len = in.u16(p + 32);
    if (kCentralFixed + name_len + extra_len + comment_len > cd_end - p)
      in.bad("central directory entry " + std::to_string(i) + " runs past the directory");
    ZipEntry e;
    e.name = in.str(p + kCentralFixed, name_len);
    e.crc = in.u32(p + 16);
    e.compressed_size = in.u32(p + 20);
    e.size = in.u32(p + 24);
    e.header_offset = in.u32(p + 42);
    uint64_t disk = in.u16(p + 34);
    apply_zip64_extra(in, p + kCentralFixed + name_len, extra_len, e, disk);
    p += kCentralFixed + name_len + extra_len + comment_len;

    std::string who = "entry " + quoted(e.name);
    if (!names.insert(e.name).second) in.bad("duplicate " + who);
    if (disk != 0) in.bad(who + " lies on another disk (multi-disk archives are not supported)");
    if (flags & 0x41) in.bad(who + " is encrypted");
    if (method != kStored && method != kDeflated)
      in.bad(who + " uses compression method " + std::to_string(method) + " (only stored and deflate are supported)");
    e.deflated = method == kDeflated;
    if (!e.deflated && e.compressed_size != e.size)
      in.bad(who + " is stored but declares " + std::to_string(e.size) + " bytes in " +
             std::to_string(e.compressed_size));
    in.need(e.header_offset, kLocalFixed, "the local header of " + who);
    if (in.u32(e.header_offset) != kLocalSig) in.bad("the local header of " + who + " is missing");
    e.data_offset = e.header_offset + kLocalFixed + in.u16(e.header_offset + 26) + in.u16(e.header_offset + 28);
    in.need(e.data_offset, e.compressed_size, "the data of " + who);
    if (e.deflated) {
      if (e.size / kDeflateMaxRatio > e.compressed_size)
        in.bad(who + " declares " + std::to_string(e.size) + " bytes from " + std::to_string(e.compressed_size) +
               " compressed bytes, more than deflate can produce (a decompression bomb?)");
      if (e.size > kMaxInflatedBytes - inflated_total)
        in.bad("the compressed members declare more than " + std::to_string(kMaxInflatedBytes >> 30) +
               " GiB of data in total (a decompression bomb?)");
      inflated_total += e.size;
    }
    entries.push_back(std::move(e));
  }
  // Members must not share bytes with each other or the directory: overlapping entries are
  // how zip bombs reuse one compressed stream many times.
  std::vector<size_t> order(entries.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return entries[a].header_offset < entries[b].header_offset; });
  for (size_t k = 0; k < order.size(); ++k) {
    const ZipEntry& e = entries[order[k]];
    uint64_t limit = k + 1 < order.size() ? entries[order[k + 1]].header_offset : d.offset;
    if (e.data_offset + e.compressed_size > limit)
      in.bad("entry " + quoted(e.name) + " overlaps another member or the central directory");
  }
  // Python's zipfile does the same check: a local name that differs means a tampered archive.
  for (const ZipEntry& e : entries)
    if (in.str(e.header_offset + kLocalFixed, in.u16(e.header_offset + 26)) != e.name)
      in.bad("the local header of entry " + quoted(e.name) + " names a different file");
  return entries;
}

ZipMember::ZipMember(std::span<const std::byte> archive, const ZipEntry& e, const char* op, Where where) {
  In in{archive, op, where};
  in.need(e.data_offset, e.compressed_size, "the data of entry " + quoted(e.name));
  view_ = archive.subspan(static_cast<size_t>(e.data_offset), static_cast<size_t>(e.compressed_size));
  if (e.deflated) {
    if (e.size > kMaxInflatedBytes) in.bad("entry " + quoted(e.name) + " is too large to inflate");
    inflated_ = inflate_exact(view_, e.size, "entry " + quoted(e.name), op, where);
    view_ = {inflated_.get(), static_cast<size_t>(e.size)};
  }
  if (crc_of(bytes()) != e.crc) in.bad("CRC-32 mismatch in entry " + quoted(e.name) + " (the archive is corrupt)");
}

// ---- gzip ----

bool is_gzip(std::span<const std::byte> b) {
  return b.size() >= 2 && b[0] == std::byte{0x1f} && b[1] == std::byte{0x8b};
}

struct GzipReader::State {
  InflateStream s;
  std::span<const std::byte> in;
  size_t in_pos = 0;  // how much of `in` has been handed to zlib
  bool done = false;
  const char* op;
  Where where;
  [[noreturn]] void bad(const std::string& what) const { throw ValueError(op, what, where); }
  size_t unread() const { return s.z.avail_in + (in.size() - in_pos); }
};

GzipReader::GzipReader(std::span<const std::byte> gz, const char* op, Where where)
    : s_(std::make_unique<State>()) {
  s_->in = gz;
  s_->op = op;
  s_->where = where;
  if (!is_gzip(gz)) s_->bad("not gzip data (bad magic)");
  if (inflateInit2(&s_->s.z, 16 + MAX_WBITS) != Z_OK) s_->bad("zlib could not start a gzip stream");
  s_->s.live = true;
}

GzipReader::~GzipReader() = default;

size_t GzipReader::read(std::byte* dst, size_t n) {
  State& st = *s_;
  z_stream& z = st.s.z;
  size_t got = 0;
  while (got < n && !st.done) {
    if (z.avail_in == 0 && st.in_pos < st.in.size()) {
      z.next_in = zin(st.in.data() + st.in_pos);
      z.avail_in = chunk(st.in.size() - st.in_pos);
      st.in_pos += z.avail_in;
    }
    uInt room = chunk(n - got);
    z.next_out = reinterpret_cast<Bytef*>(dst + got);
    z.avail_out = room;
    uInt in_before = z.avail_in;
    int rc = inflate(&z, Z_NO_FLUSH);
    uInt produced = room - z.avail_out;
    got += produced;
    if (rc == Z_STREAM_END) {
      // Another member may follow (as `cat a.gz b.gz` makes); zero padding is tolerated as gzip does.
      std::span<const std::byte> rest = st.in.subspan(st.in.size() - st.unread());
      if (rest.empty() || std::all_of(rest.begin(), rest.end(), [](std::byte c) { return c == std::byte{0}; })) {
        st.done = true;
      } else if (is_gzip(rest)) {
        if (inflateReset(&z) != Z_OK) st.bad("zlib could not restart the gzip stream");
      } else {
        st.bad(std::to_string(rest.size()) + " bytes of trailing garbage after the gzip data");
      }
      continue;
    }
    if (rc == Z_DATA_ERROR || rc == Z_NEED_DICT || rc == Z_STREAM_ERROR)
      st.bad(std::string("corrupt gzip data (") + (z.msg ? z.msg : "zlib error") + ")");
    if (rc == Z_MEM_ERROR) st.bad("zlib ran out of memory");
    if (produced == 0 && z.avail_in == in_before && st.in_pos == st.in.size()) st.bad("the gzip data is truncated");
  }
  return got;
}

}  // namespace nx::detail
