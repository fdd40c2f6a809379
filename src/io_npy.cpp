// .npy encoding and a defensive decoder: every size is checked against the bytes present.
#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>

#include "io_file.hpp"
#include "nx/detail/core.hpp"
#include "nx/io.hpp"

namespace nx::io {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMaxHeader = 1 << 20;

std::string descr(DType t) {
  switch (t) {
    case DType::bool_: return "|b1";
    case DType::u8: return "|u1";
    case DType::u32: return "<u4";
    case DType::i32: return "<i4";
    case DType::i64: return "<i8";
    case DType::f16: return "<f2";
    case DType::bf16: return "<V2";
    case DType::f32: return "<f4";
    case DType::f64: return "<f8";
  }
  return "";
}

struct Header {
  DType dtype = DType::f32;
  bool swap = false;
  bool fortran = false;
  Shape shape;
};

[[noreturn]] void bad(const std::string& what, Where where) { throw ValueError("load_npy", what, where); }

// The value text following 'key': in a Python dict literal.
std::string field(const std::string& h, const std::string& key, Where where) {
  size_t k = h.find("'" + key + "'");
  if (k == std::string::npos) bad("the header has no '" + key + "' entry", where);
  size_t colon = h.find(':', k);
  if (colon == std::string::npos) bad("malformed header entry '" + key + "'", where);
  size_t b = h.find_first_not_of(' ', colon + 1);
  if (b == std::string::npos) bad("malformed header entry '" + key + "'", where);
  size_t e = std::string::npos;
  if (h[b] == '(') e = h.find(')', b);
  else if (h[b] == '\'') e = h.find('\'', b + 1);
  else if (size_t c = h.find_first_of(",}", b); c != std::string::npos) e = c - 1;
  if (e == std::string::npos || e < b) bad("malformed header entry '" + key + "'", where);
  ++e;
  return h.substr(b, e - b);
}

Header parse_header(const std::string& h, Where where) {
  Header r;
  std::string d = field(h, "descr", where);
  if (d.size() < 4 || d.front() != '\'' || d.back() != '\'') bad("unsupported descr " + d, where);
  d = d.substr(1, d.size() - 2);
  char order = d[0];
  std::string code = d.substr(1);
  if (order != '<' && order != '>' && order != '|' && order != '=')
    bad("unsupported byte order in descr '" + d + "'", where);
  static const std::pair<const char*, DType> kCodes[] = {
      {"b1", DType::bool_}, {"u1", DType::u8}, {"u4", DType::u32}, {"i4", DType::i32}, {"i8", DType::i64},
      {"f2", DType::f16},   {"V2", DType::bf16}, {"f4", DType::f32}, {"f8", DType::f64}};
  bool found = false;
  for (auto& [c, t] : kCodes)
    if (code == c) r.dtype = t, found = true;
  if (!found) bad("unsupported dtype '" + d + "' (object and structured dtypes are refused)", where);
  r.swap = order == '>' && item_size(r.dtype) > 1;
  std::string f = field(h, "fortran_order", where);
  if (f.rfind("True", 0) == 0) r.fortran = true;
  else if (f.rfind("False", 0) != 0) bad("bad fortran_order " + f, where);
  std::string s = field(h, "shape", where);
  if (s.front() != '(' || s.back() != ')') bad("bad shape " + s, where);
  std::string cur;
  for (char c : s.substr(1, s.size() - 2) + ",") {
    if (c == ' ') continue;
    if (c == ',') {
      if (cur.empty()) continue;
      if (cur.size() > 18 || !std::all_of(cur.begin(), cur.end(), ::isdigit)) bad("bad shape " + s, where);
      if (r.shape.rank() == kMaxRank) bad("rank above " + std::to_string(kMaxRank) + " in shape " + s, where);
      r.shape.push_back(std::stoll(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  return r;
}

}  // namespace

std::vector<std::byte> encode_npy(const Tensor& t, Where where) {
  if (!t.defined()) throw ValueError("save_npy", "the tensor is undefined", where);
  if (t.is_traced()) throw ValueError("save_npy", "cannot save a traced tensor inside nx::jit", where);
  std::string shape = "(";
  for (int i = 0; i < t.rank(); ++i) shape += std::to_string(t.shape()[i]) + (t.rank() == 1 ? "," : i + 1 < t.rank() ? ", " : "");
  shape += ")";
  std::string h = "{'descr': '" + descr(t.dtype()) + "', 'fortran_order': False, 'shape': " + shape + ", }";
  // Pad so the data starts on a 64-byte boundary, header ending in '\n'.
  size_t prefix = 10;
  size_t total = (prefix + h.size() + 1 + 63) / 64 * 64;
  bool v2 = total - prefix > 65535;
  if (v2) prefix = 12, total = (prefix + h.size() + 1 + 63) / 64 * 64;
  h.append(total - prefix - h.size() - 1, ' ');
  h += '\n';
  size_t data_bytes = static_cast<size_t>(t.size()) * static_cast<size_t>(item_size(t.dtype()));
  std::vector<std::byte> out(total + data_bytes);
  std::memcpy(out.data(), kMagic, 6);
  out[6] = std::byte{static_cast<unsigned char>(v2 ? 2 : 1)};
  out[7] = std::byte{0};
  uint32_t len = static_cast<uint32_t>(h.size());
  for (size_t i = 0; i < (v2 ? 4u : 2u); ++i) out[8 + i] = std::byte{static_cast<unsigned char>(len >> (8 * i))};
  std::memcpy(out.data() + prefix, h.data(), h.size());
  if (data_bytes) std::memcpy(out.data() + total, t.buffer()->data(), data_bytes);
  static_assert(std::endian::native == std::endian::little, "nx++ assumes a little-endian host");
  return out;
}

Tensor decode_npy(std::span<const std::byte> b, Where where) {
  if (b.size() < 10 || std::memcmp(b.data(), kMagic, 6) != 0) bad("not a .npy file (bad magic)", where);
  auto u8 = [&](size_t i) { return static_cast<uint32_t>(b[i]); };
  uint32_t major = u8(6);
  if (major < 1 || major > 3) bad("unsupported .npy version " + std::to_string(major), where);
  size_t prefix = major == 1 ? 10 : 12;
  if (b.size() < prefix) bad("truncated header", where);
  size_t hlen = major == 1 ? (u8(8) | u8(9) << 8) : (u8(8) | u8(9) << 8 | u8(10) << 16 | u8(11) << 24);
  if (hlen > kMaxHeader) bad("header of " + std::to_string(hlen) + " bytes is too large", where);
  if (b.size() - prefix < hlen) bad("truncated header", where);
  std::string h(reinterpret_cast<const char*>(b.data() + prefix), hlen);
  Header hd = parse_header(h, where);
  int64_t n = 1;
  for (int i = 0; i < hd.shape.rank(); ++i)
    if (__builtin_mul_overflow(n, hd.shape[i], &n)) bad("shape " + hd.shape.str() + " overflows", where);
  size_t isz = static_cast<size_t>(item_size(hd.dtype));
  size_t avail = b.size() - prefix - hlen;
  if (static_cast<uint64_t>(n) > avail / isz)
    bad("shape " + hd.shape.str() + " needs " + std::to_string(n) + " items but the file holds " +
            std::to_string(avail / isz), where);
  std::vector<std::byte> data(b.begin() + static_cast<std::ptrdiff_t>(prefix + hlen),
                              b.begin() + static_cast<std::ptrdiff_t>(prefix + hlen + static_cast<size_t>(n) * isz));
  if (hd.swap)
    for (size_t i = 0; i < data.size(); i += isz) std::reverse(data.begin() + static_cast<std::ptrdiff_t>(i),
                                                                data.begin() + static_cast<std::ptrdiff_t>(i + isz));
  if (hd.dtype == DType::bool_)
    for (auto& x : data) x = std::byte{x != std::byte{0}};  // only 0/1 are valid bools
  if (!hd.fortran) return from_bytes(data.data(), hd.dtype, hd.shape, where);
  // Fortran order: read as the reversed shape, then reverse the axes.
  Shape rev;
  for (int i = hd.shape.rank() - 1; i >= 0; --i) rev.push_back(hd.shape[i]);
  return transpose(from_bytes(data.data(), hd.dtype, rev, where), {}, where);
}

void save_npy(const std::string& path, const Tensor& t, Where where) {
  std::vector<std::byte> bytes = encode_npy(t, where);
  detail::AtomicFile f(path, "save_npy", where);
  f.write(bytes.data(), bytes.size());
  f.commit();
}

Tensor load_npy(const std::string& path, Where where) {
  detail::FileBytes file = detail::read_whole_file(path, /*mmap=*/false, "load_npy", where);
  try {
    return decode_npy(file.bytes, where);
  } catch (const Error& e) {
    throw ValueError("load_npy", path + ": " + e.detail(), where);
  }
}

}  // namespace nx::io
