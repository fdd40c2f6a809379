// .npy encoding and a defensive decoder: every size is checked against the bytes present.
#include <algorithm>
#include <bit>
#include <charconv>
#include <cstring>
#include <limits>
#include <optional>
#include <string_view>

#include "io/file.hpp"
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

// The header is a Python dict literal, read as strictly as numpy's safe literal parser:
// exactly the keys 'descr' (a string), 'fortran_order' (True/False) and 'shape' (a tuple of
// ints), each once, in one balanced {...}, followed by nothing but whitespace padding.
class HeaderParser {
 public:
  HeaderParser(std::string_view text, Where where) : h_(text), where_(where) {}

  Header parse() {
    std::optional<std::string> descr;
    std::optional<bool> fortran;
    std::optional<std::vector<int64_t>> dims;
    expect('{');
    while (!take('}')) {
      if (at_end()) fail("the header ends before the closing '}'");
      std::string key = string_literal();
      expect(':');
      if (key == "descr" && !descr) descr = string_literal();
      else if (key == "fortran_order" && !fortran) fortran = boolean();
      else if (key == "shape" && !dims) dims = tuple_of_ints();
      else fail("duplicate or unknown key '" + key + "'");
      if (take(',')) continue;
      if (take('}')) break;
      fail(at_end() ? "the header ends before the closing '}'" : "expected ',' or '}'");
    }
    skip_space();
    if (pos_ != h_.size()) fail("text after the closing '}'");
    if (!descr) bad("the header has no 'descr' entry", where_);
    if (!fortran) bad("the header has no 'fortran_order' entry", where_);
    if (!dims) bad("the header has no 'shape' entry", where_);
    Header r;
    set_dtype(*descr, r);
    r.fortran = *fortran;
    if (!checked_element_count(*dims)) bad("shape " + dims_str(*dims) + " overflows: its element count exceeds int64", where_);
    r.shape = Shape(*dims);
    return r;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    bad("malformed header (numpy requires one dict literal): " + what + " at offset " + std::to_string(pos_) +
            " of " + quoted_header(),
        where_);
  }
  std::string quoted_header() const { return detail::quoted_for_error(h_); }
  void skip_space() {
    auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; };
    while (pos_ < h_.size() && space(h_[pos_])) ++pos_;
  }
  bool at_end() {
    skip_space();
    return pos_ == h_.size();
  }
  bool take(char c) {
    skip_space();
    if (pos_ < h_.size() && h_[pos_] == c) return ++pos_, true;
    return false;
  }
  void expect(char c) {
    if (!take(c)) fail(std::string("expected '") + c + "'");
  }
  std::string string_literal() {
    skip_space();
    char quote = pos_ < h_.size() ? h_[pos_] : '\0';
    if (quote != '\'' && quote != '"') fail("expected a quoted string");
    size_t close = h_.find_first_of(std::string{quote, '\\', '\n'}, pos_ + 1);
    if (close == std::string_view::npos || h_[close] != quote) fail("unterminated or escaped string");
    std::string out(h_.substr(pos_ + 1, close - pos_ - 1));
    pos_ = close + 1;
    return out;
  }
  bool boolean() {
    skip_space();
    for (bool v : {true, false}) {
      std::string_view word = v ? "True" : "False";
      if (h_.substr(pos_, word.size()) == word) return pos_ += word.size(), v;
    }
    fail("expected True or False");
  }
  // (), (n,), (n, m), (n, m,): a lone (n) is an int in Python, not a tuple.
  std::vector<int64_t> tuple_of_ints() {
    expect('(');
    std::vector<int64_t> dims;
    bool comma = false;
    while (!take(')')) {
      if (dims.size() == static_cast<size_t>(kMaxRank))
        bad("rank above " + std::to_string(kMaxRank) + " in the shape", where_);
      dims.push_back(integer());
      comma = take(',');
      if (comma) continue;
      if (take(')')) break;
      fail("expected ',' or ')' in the shape");
    }
    if (dims.size() == 1 && !comma) fail("the shape (n) is not a tuple; numpy writes (n,)");
    return dims;
  }
  int64_t integer() {
    skip_space();
    size_t b = pos_;
    while (pos_ < h_.size() && h_[pos_] >= '0' && h_[pos_] <= '9') ++pos_;
    if (b == pos_) fail("expected a non-negative integer");
    if (h_[b] == '0' && pos_ - b > 1) fail("leading zeros (Python refuses them)");
    int64_t v = 0;
    if (std::from_chars(h_.data() + b, h_.data() + pos_, v).ec != std::errc()) fail("dimension " + std::string(h_.substr(b, pos_ - b)) + " is out of range");
    return v;
  }
  void set_dtype(const std::string& d, Header& r) const {
    if (d.size() < 3) bad("unsupported dtype '" + d + "'", where_);
    char order = d[0];
    std::string code = d.substr(1);
    if (order != '<' && order != '>' && order != '|' && order != '=')
      bad("unsupported byte order in descr '" + d + "'", where_);
    static const std::pair<const char*, DType> kCodes[] = {
        {"b1", DType::bool_}, {"u1", DType::u8}, {"u4", DType::u32}, {"i4", DType::i32}, {"i8", DType::i64},
        {"f2", DType::f16},   {"V2", DType::bf16}, {"f4", DType::f32}, {"f8", DType::f64}};
    bool found = false;
    for (auto& [c, t] : kCodes)
      if (code == c) r.dtype = t, found = true;
    if (!found) bad("unsupported dtype '" + d + "' (object and structured dtypes are refused)", where_);
    r.swap = order == '>' && item_size(r.dtype) > 1;
  }

  std::string_view h_;
  size_t pos_ = 0;
  Where where_;
};

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
  Header hd = HeaderParser(h, where).parse();
  int64_t n = hd.shape.size();
  size_t isz = static_cast<size_t>(item_size(hd.dtype));
  size_t avail = b.size() - prefix - hlen;
  if (static_cast<uint64_t>(n) > avail / isz)
    bad("shape " + hd.shape.str() + " needs " + std::to_string(n) + " items but the file holds " +
            std::to_string(avail / isz), where);
  const std::byte* data = b.data() + prefix + hlen;
  // Fortran order: read as the reversed shape, then reverse the axes.
  Shape shape;
  for (int i = 0; i < hd.shape.rank(); ++i) shape.push_back(hd.shape[hd.fortran ? hd.shape.rank() - 1 - i : i]);
  Tensor t;
  if (!hd.swap && hd.dtype != DType::bool_) {
    t = from_bytes(data, hd.dtype, shape, where);  // the common case: one copy, straight from the file
  } else {
    std::vector<std::byte> fixed(data, data + static_cast<size_t>(n) * isz);
    if (hd.swap)
      for (size_t i = 0; i < fixed.size(); i += isz)
        std::reverse(fixed.begin() + static_cast<std::ptrdiff_t>(i), fixed.begin() + static_cast<std::ptrdiff_t>(i + isz));
    if (hd.dtype == DType::bool_)
      for (auto& x : fixed) x = std::byte{x != std::byte{0}};  // only 0/1 are valid bools
    t = from_bytes(fixed.data(), hd.dtype, shape, where);
  }
  return hd.fortran ? transpose(t, {}, where) : t;
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
