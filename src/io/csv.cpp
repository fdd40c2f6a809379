// CSV -> column tensors in one pass: fields are views into the text (unescaped into a
// reused scratch string only when they hold doubled quotes) and values go straight into
// per-column vectors reserved from a row estimate, so no field allocates.
#include "nx/io/csv.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <unordered_map>

#include "nx/detail/core.hpp"

namespace nx::io {
namespace {

// The op, the source (file path or none) and the caller, for every error.
struct Context {
  const char* op;
  std::string source;
  Where where;
  [[noreturn]] void fail(const std::string& what) const { throw ValueError(op, source + what, where); }
  [[noreturn]] void fail(int64_t line, const std::string& what) const {
    fail("line " + std::to_string(line) + ": " + what);
  }
};

// At most 40 characters of untrusted text, control characters replaced.
std::string excerpt(std::string_view s) {
  constexpr size_t kMax = 40;
  std::string out;
  for (char ch : s.substr(0, kMax)) out += static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f ? '?' : ch;
  if (s.size() > kMax) out += "...";
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view s, std::string_view lower) {
  if (s.size() != lower.size()) return false;
  for (size_t i = 0; i < s.size(); ++i)
    if ((s[i] >= 'A' && s[i] <= 'Z' ? s[i] - 'A' + 'a' : s[i]) != lower[i]) return false;
  return true;
}

bool is_missing_text(std::string_view s) {
  if (s.empty()) return true;
  for (std::string_view m : {"na", "n/a", "nan", "-nan", "+nan", "null", "none"})
    if (iequals(s, m)) return true;
  return false;
}

std::optional<bool> bool_text(std::string_view s) {
  if (iequals(s, "true")) return true;
  if (iequals(s, "false")) return false;
  return std::nullopt;
}

// from_chars refuses a leading '+'; CSV writers sometimes emit one.
bool strip_plus(std::string_view& s) {
  if (s.empty() || s[0] != '+') return true;
  s.remove_prefix(1);
  return !s.empty() && s[0] != '-' && s[0] != '+';
}

bool parse_int(std::string_view s, int64_t& v) {
  if (!strip_plus(s)) return false;
  const char* p = s.data();
  const char* end = p + s.size();
  bool negative = p < end && *p == '-';
  size_t digits = s.size() - negative;
  if (digits == 0 || digits > 18) {  // longer ones may overflow: let from_chars check
    auto [q, ec] = std::from_chars(p, end, v);
    return ec == std::errc{} && q == end;
  }
  uint64_t acc = 0;  // below 10^18, so no overflow
  for (p += negative; p < end; ++p) {
    unsigned d = static_cast<unsigned>(*p - '0');
    if (d > 9) return false;
    acc = acc * 10 + d;
  }
  v = negative ? -static_cast<int64_t>(acc) : static_cast<int64_t>(acc);
  return true;
}

// A number from_chars found out of range is either huge or tiny: which one follows from
// the position of its first significant digit plus its exponent.
template <class F>
F beyond_range(std::string_view s) {
  bool negative = s[0] == '-';
  if (negative) s.remove_prefix(1);
  int64_t magnitude = 0;  // decimal exponent of the first significant digit, plus one
  bool seen_point = false, seen_digit = false;
  size_t i = 0;
  for (; i < s.size() && s[i] != 'e' && s[i] != 'E'; ++i) {
    if (s[i] == '.') { seen_point = true; continue; }
    if (s[i] != '0') seen_digit = true;
    if (!seen_digit && seen_point) --magnitude;
    if (seen_digit && !seen_point && magnitude < (int64_t{1} << 40)) ++magnitude;
  }
  int64_t exponent = 0;
  if (i + 1 < s.size()) {
    std::string_view e = s.substr(i + 1);
    bool e_negative = e[0] == '-';
    if (e[0] == '-' || e[0] == '+') e.remove_prefix(1);
    auto [p, ec] = std::from_chars(e.data(), e.data() + e.size(), exponent);
    if (ec == std::errc::result_out_of_range) exponent = int64_t{1} << 50;
    exponent = std::min(exponent, int64_t{1} << 50);
    if (e_negative) exponent = -exponent;
  }
  F v = magnitude + exponent > 0 ? std::numeric_limits<F>::infinity() : F(0);
  return negative ? -v : v;
}

// Any float from_chars accepts (so also "inf" and "nan"); out-of-range values saturate.
template <class F>
bool parse_real(std::string_view s, F& v) {
  if (!strip_plus(s)) return false;
  const char* end = s.data() + s.size();
  auto [p, ec] = std::from_chars(s.data(), end, v);
  if (ec == std::errc::invalid_argument || p != end) return false;
  if (ec == std::errc::result_out_of_range) v = beyond_range<F>(s);
  return true;
}

// Bounds the per-column bookkeeping a hostile header can demand (~200 bytes a column).
constexpr size_t kMaxColumns = size_t{1} << 20;

// How a column's values are being stored.
enum class Kind : uint8_t { unknown, boolean, integer, real, single };

struct Column {
  std::string name;
  Kind kind = Kind::unknown;
  bool forced = false;  // the kind is fixed by CsvOpts::dtype
  DType target = f64;
  int64_t lo = std::numeric_limits<int64_t>::min(), hi = std::numeric_limits<int64_t>::max();
  size_t reserve = 0;
  std::vector<uint8_t> bools;
  std::vector<int64_t> ints;
  std::vector<double> reals;
  std::vector<float> singles;
};

void set_kind(Column& c, Kind k) {
  c.kind = k;
  switch (k) {
    case Kind::boolean: c.bools.reserve(c.reserve); break;
    case Kind::integer: c.ints.reserve(c.reserve); break;
    case Kind::real: c.reals.reserve(c.reserve); break;
    case Kind::single: c.singles.reserve(c.reserve); break;
    case Kind::unknown: break;
  }
}

void to_integer(Column& c) {  // from boolean
  c.ints.reserve(std::max(c.reserve, c.bools.size() + 1));
  c.ints.assign(c.bools.begin(), c.bools.end());
  std::vector<uint8_t>().swap(c.bools);
  c.kind = Kind::integer;
}

void to_real(Column& c) {
  if (c.kind == Kind::boolean) to_integer(c);
  c.reals.reserve(std::max(c.reserve, c.ints.size() + 1));
  for (int64_t v : c.ints) c.reals.push_back(static_cast<double>(v));
  std::vector<int64_t>().swap(c.ints);
  c.kind = Kind::real;
}

bool fits_int64(double d) { return d >= -0x1p63 && d < 0x1p63 && d == std::trunc(d); }

void configure_forced(Column& c, DType t) {
  c.forced = true;
  c.target = t;
  switch (t) {
    case DType::bool_: set_kind(c, Kind::boolean); break;
    case DType::f32: set_kind(c, Kind::single); break;
    case DType::f16: case DType::bf16: case DType::f64: set_kind(c, Kind::real); break;
    case DType::u8: c.lo = 0, c.hi = 255; set_kind(c, Kind::integer); break;
    case DType::u32: c.lo = 0, c.hi = 0xffffffffLL; set_kind(c, Kind::integer); break;
    case DType::i32: c.lo = INT32_MIN, c.hi = INT32_MAX; set_kind(c, Kind::integer); break;
    case DType::i64: set_kind(c, Kind::integer); break;
  }
}

struct FieldEnd {
  bool row_end = false;
  bool quoted = false;
};

class Parser {
 public:
  Parser(std::string_view text, const CsvOpts& opts, Context cx) : opts_(opts), cx_(std::move(cx)) {
    if (opts.delimiter == '"' || opts.delimiter == '\n' || opts.delimiter == '\r')
      cx_.fail("the delimiter cannot be a quote or a line break");
    if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // UTF-8 byte order mark
    p_ = text.data();
    end_ = text.data() + text.size();
    stop_[static_cast<unsigned char>(opts.delimiter)] = true;
    stop_['\n'] = stop_['\r'] = true;
  }

  CsvTable run() {
    skip_blank_lines();
    if (p_ == end_ && opts_.header) cx_.fail("the text is empty: there is no header row");
    std::vector<std::string> names = first_row();
    std::vector<Column> cols = select(names);
    size_t newlines = static_cast<size_t>(std::count(p_, end_, '\n'));
    // A row needs a byte per field at least, which bounds the reservation by the text size.
    size_t estimate = std::min(newlines + 1, static_cast<size_t>(end_ - p_) / std::max<size_t>(names.size(), 1) + 1);
    for (Column& c : cols) {
      c.reserve = estimate;
      if (opts_.dtype) configure_forced(c, *opts_.dtype);
    }
    int64_t rows = read_rows(names.size(), cols);
    CsvTable table;
    for (Column& c : cols) {
      table.names.push_back(c.name);
      table.columns.push_back(finish(c, rows));
    }
    return table;
  }

 private:
  void end_line() {
    if (*p_ == '\r' && p_ + 1 < end_ && p_[1] == '\n') ++p_;
    ++p_;
    ++line_;
  }

  void skip_blank_lines() {
    while (p_ < end_ && (*p_ == '\n' || *p_ == '\r')) end_line();
  }

  // Reads the field at p_ and moves past the delimiter or line break closing it. `value`
  // views the text; a quoted field with doubled quotes is unescaped into scratch_ when
  // `want`, otherwise only skipped.
  FieldEnd read_field(std::string_view& value, bool want) {
    if (p_ < end_ && *p_ == '"') return read_quoted(value, want);
    const char* start = p_;
    while (p_ < end_ && !stop_[static_cast<unsigned char>(*p_)]) ++p_;
    value = std::string_view(start, static_cast<size_t>(p_ - start));
    return {after_field(), false};
  }

  FieldEnd read_quoted(std::string_view& value, bool want) {
    int64_t open_line = line_;
    const char* start = p_ + 1;
    const char* q = start;
    bool doubled = false;
    const char* close = nullptr;
    while (!close) {
      const void* hit = std::memchr(q, '"', static_cast<size_t>(end_ - q));
      if (!hit) cx_.fail(open_line, "a quoted field is never closed");
      const char* h = static_cast<const char*>(hit);
      if (h + 1 < end_ && h[1] == '"') doubled = true, q = h + 2;
      else close = h;
    }
    line_ += std::count(start, close, '\n');
    value = std::string_view(start, static_cast<size_t>(close - start));
    if (doubled && want) {
      scratch_.clear();
      for (size_t i = 0; i < value.size(); ++i) {
        scratch_ += value[i];
        if (value[i] == '"') ++i;  // the second of a doubled pair
      }
      value = scratch_;
    }
    p_ = close + 1;
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\t') && *p_ != opts_.delimiter) ++p_;
    if (p_ < end_ && !stop_[static_cast<unsigned char>(*p_)])
      cx_.fail(line_, "unexpected text '" + excerpt(std::string_view(p_, static_cast<size_t>(end_ - p_))) +
                          "' after a closing quote");
    return {after_field(), true};
  }

  // At the delimiter, a line break or the end: consumes it; true when the row ended.
  bool after_field() {
    if (p_ == end_) return true;
    if (*p_ == opts_.delimiter) {
      ++p_;
      return false;
    }
    end_line();
    return true;
  }

  std::vector<std::string> first_row() {
    const char* row_start = p_;
    int64_t row_line = line_;
    std::vector<std::string> fields;
    if (p_ == end_) return fields;
    for (;;) {
      std::string_view v;
      FieldEnd fe = read_field(v, true);
      if (fields.size() == kMaxColumns)
        cx_.fail(row_line, "more than " + std::to_string(kMaxColumns) + " fields; that many columns are not supported");
      fields.emplace_back(fe.quoted ? v : trim(v));
      if (fe.row_end) break;
    }
    if (opts_.header) return fields;
    p_ = row_start, line_ = row_line;
    for (size_t i = 0; i < fields.size(); ++i) fields[i] = std::to_string(i);
    return fields;
  }

  std::vector<Column> select(const std::vector<std::string>& names) {
    constexpr size_t kAmbiguous = SIZE_MAX;
    std::unordered_map<std::string_view, size_t> index;  // hashed: headers may be huge
    for (size_t i = 0; i < names.size(); ++i)
      if (auto [it, fresh] = index.emplace(names[i], i); !fresh) it->second = kAmbiguous;
    const std::vector<std::string>& wanted = opts_.columns.empty() ? names : opts_.columns;
    slot_.assign(names.size(), -1);
    std::vector<Column> cols;
    cols.reserve(wanted.size());
    for (const std::string& w : wanted) {
      auto it = index.find(w);
      if (it == index.end()) {
        std::string list;
        for (size_t i = 0; i < names.size() && i < 20; ++i) list += (i ? ", " : "") + excerpt(names[i]);
        if (names.size() > 20) list += ", ...";
        cx_.fail("no column named '" + excerpt(w) + "' (the columns are: " + list + ")");
      }
      if (it->second == kAmbiguous)
        cx_.fail("the column name '" + excerpt(w) + "' appears more than once in the header");
      if (slot_[it->second] >= 0) cx_.fail("the column '" + excerpt(w) + "' is selected twice");
      slot_[it->second] = static_cast<int>(cols.size());
      cols.push_back(Column{.name = w});
    }
    return cols;
  }

  int64_t read_rows(size_t ncols, std::vector<Column>& cols) {
    int64_t rows = 0;
    while (p_ < end_) {
      if (*p_ == '\n' || *p_ == '\r') {
        end_line();
        continue;
      }
      int64_t row_line = line_;
      size_t fields = 0;
      for (bool row_end = false; !row_end; ++fields) {
        int k = fields < ncols ? slot_[fields] : -1;
        std::string_view v;
        row_end = read_field(v, k >= 0).row_end;
        if (k >= 0) add(cols[static_cast<size_t>(k)], v, row_line);
      }
      if (fields != ncols)
        cx_.fail(row_line, "has " + std::to_string(fields) + " fields, expected " + std::to_string(ncols) +
                               (opts_.header ? " (as in the header)" : " (as in the first row)"));
      ++rows;
    }
    return rows;
  }

  // The hot path: the value parses as what the column already holds.
  void add(Column& c, std::string_view raw, int64_t line) {
    std::string_view s = trim(raw);
    switch (c.kind) {
      case Kind::real: {
        double v;
        if (parse_real(s, v) && !std::isnan(v)) return c.reals.push_back(v);
        break;
      }
      case Kind::integer: {
        int64_t v;
        if (parse_int(s, v) && v >= c.lo && v <= c.hi) return c.ints.push_back(v);
        break;
      }
      case Kind::single: {
        float v;
        if (parse_real(s, v) && !std::isnan(v)) return c.singles.push_back(v);
        break;
      }
      case Kind::boolean:
        if (auto b = bool_text(s)) return c.bools.push_back(*b);
        break;
      case Kind::unknown: break;
    }
    add_slow(c, s, line);
  }

  [[noreturn]] void fail_value(const Column& c, int64_t line, const std::string& what) const {
    cx_.fail(line, "column '" + excerpt(c.name) + "': " + what);
  }

  void add_slow(Column& c, std::string_view s, int64_t line) {
    double d = 0;
    bool number = parse_real(s, d);
    if (number ? std::isnan(d) : is_missing_text(s)) return add_missing(c, s, line);
    std::optional<bool> b = number ? std::nullopt : bool_text(s);
    if (!number && !b) fail_value(c, line, "cannot parse '" + excerpt(s) + "' as a number");
    if (c.forced) return add_forced(c, b ? double(*b) : d, line, s);
    if (b) {
      if (c.kind != Kind::unknown) fail_value(c, line, "'" + excerpt(s) + "' in a column of numbers");
      set_kind(c, Kind::boolean);
      return c.bools.push_back(*b);
    }
    if (c.kind == Kind::boolean) fail_value(c, line, "the number '" + excerpt(s) + "' in a column of true/false");
    int64_t i;
    if (c.kind != Kind::real && parse_int(s, i)) {
      set_kind(c, Kind::integer);
      return c.ints.push_back(i);
    }
    to_real(c);  // a non-integer, or an integer beyond i64
    c.reals.push_back(d);
  }

  // A forced column's value that missed the hot path: true/false, or a number of
  // another form (1.0 or 1e3 for an integer dtype, 0/1 for bool).
  void add_forced(Column& c, double d, int64_t line, std::string_view s) {
    switch (c.kind) {
      case Kind::real: return c.reals.push_back(d);
      case Kind::single: return c.singles.push_back(static_cast<float>(d));
      case Kind::boolean:
        if (d != 0 && d != 1) fail_value(c, line, "'" + excerpt(s) + "' is not a bool (true, false, 0 or 1)");
        return c.bools.push_back(d == 1);
      case Kind::integer:
        if (!fits_int64(d) || static_cast<int64_t>(d) < c.lo || static_cast<int64_t>(d) > c.hi)
          fail_value(c, line, "'" + excerpt(s) + "' is not an integer in the range of " + std::string(name(c.target)));
        return c.ints.push_back(static_cast<int64_t>(d));
      case Kind::unknown: break;
    }
  }

  void add_missing(Column& c, std::string_view s, int64_t line) {
    if (opts_.missing == Missing::error)
      fail_value(c, line, (s.empty() ? std::string("empty field") : "missing value '" + excerpt(s) + "'") +
                              " (pass Missing::fill to fill missing values)");
    double f = opts_.fill_value;
    if (c.forced) {
      if (c.kind == Kind::boolean && std::isnan(f))
        fail_value(c, line, "missing value, and a NaN fill_value cannot be a bool");
      return add_forced(c, f, line, "fill_value " + std::to_string(f));
    }
    bool integral = fits_int64(f);
    if (c.kind == Kind::unknown) set_kind(c, integral ? Kind::integer : Kind::real);
    if (c.kind == Kind::boolean) integral ? to_integer(c) : to_real(c);
    if (c.kind == Kind::integer && !integral) to_real(c);
    if (c.kind == Kind::integer) c.ints.push_back(static_cast<int64_t>(f));
    else c.reals.push_back(f);
  }

  Tensor finish(Column& c, int64_t rows) const {
    Tensor t;
    switch (c.kind) {
      case Kind::unknown: return zeros(Shape{rows}, c.forced ? c.target : f64, cx_.where);  // no rows
      case Kind::boolean: return adopt(c.bools, boolean, rows);
      case Kind::single: return adopt(c.singles, f32, rows);
      case Kind::integer: t = adopt(c.ints, i64, rows); break;
      case Kind::real: t = adopt(c.reals, f64, rows); break;
    }
    return c.forced && c.target != t.dtype() ? as_type(t, c.target, cx_.where) : t;
  }

  // The tensor keeps the vector itself (no copy) unless much of its reservation is unused.
  template <class T>
  Tensor adopt(std::vector<T>& v, DType dtype, int64_t rows) const {
    if (v.capacity() - v.size() > v.size() / 4 + 64) return from_bytes(v.data(), dtype, Shape{rows}, cx_.where);
    auto keep = std::make_shared<std::vector<T>>(std::move(v));
    return detail::adopt_host(TensorType{dtype, Shape{rows}}, keep->data(), keep);
  }

  const CsvOpts& opts_;
  Context cx_;
  const char* p_ = nullptr;
  const char* end_ = nullptr;
  int64_t line_ = 1;
  std::array<bool, 256> stop_{};  // bytes that end an unquoted field
  std::vector<int> slot_;         // field index -> selected column, or -1
  std::string scratch_;
};

}  // namespace

const Tensor& CsvTable::operator[](const std::string& name) const {
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return columns[i];
  throw ValueError("CsvTable", "no column named '" + excerpt(name) + "'", Where{});
}

Tensor CsvTable::matrix(DType dtype, Where where) const {
  if (columns.empty()) return zeros({0, 0}, dtype, where);
  std::vector<Tensor> cs;
  for (const Tensor& c : columns) cs.push_back(as_type(c, dtype, where));
  return stack(cs, 1, where);
}

CsvTable parse_csv(std::string_view text, CsvOpts opts, Where where) {
  return Parser(text, opts, Context{"parse_csv", "", where}).run();
}

CsvTable load_csv(const std::string& path, CsvOpts opts, Where where) {
  Context cx{"load_csv", path + ": ", where};
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) cx.fail("is a directory");
  std::ifstream f(path, std::ios::binary);
  if (!f) cx.fail("cannot open the file");
  // Read to the end rather than trusting a size: pipes and /proc files report none.
  std::string text;
  if (auto size = std::filesystem::file_size(path, ec); !ec) text.reserve(size);
  std::array<char, 1 << 16> chunk;
  while (f.read(chunk.data(), chunk.size()) || f.gcount() > 0) text.append(chunk.data(), static_cast<size_t>(f.gcount()));
  if (f.bad()) cx.fail("failed reading the file");
  return Parser(text, opts, std::move(cx)).run();
}

}  // namespace nx::io
