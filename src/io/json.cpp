// Strict recursive-descent JSON reader with hard limits, and the matching writer.
#include "io/json.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

namespace nx::io::json {
namespace {

// Length of the UTF-8 sequence starting at s[i] if it is well-formed, else 0.
size_t utf8_sequence(std::string_view s, size_t i) {
  auto at = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = at(i);
  if (c < 0x80) return 1;
  size_t n;
  uint32_t cp, min;
  if ((c & 0xE0) == 0xC0) n = 2, cp = c & 0x1F, min = 0x80;
  else if ((c & 0xF0) == 0xE0) n = 3, cp = c & 0x0F, min = 0x800;
  else if ((c & 0xF8) == 0xF0) n = 4, cp = c & 0x07, min = 0x10000;
  else return 0;
  if (s.size() - i < n) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((at(i + k) & 0xC0) != 0x80) return 0;
    cp = cp << 6 | (at(i + k) & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | cp >> 6);
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | cp >> 12);
    out += static_cast<char>(0x80 | (cp >> 6 & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | cp >> 18);
    out += static_cast<char>(0x80 | (cp >> 12 & 0x3F));
    out += static_cast<char>(0x80 | (cp >> 6 & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

class Parser {
 public:
  Parser(std::string_view text, const Limits& limits, const char* op, Where where)
      : s_(text), limits_(limits), op_(op), where_(where) {}

  Value document() {
    if (s_.size() > limits_.max_bytes)
      throw ValueError(op_, "invalid JSON: " + std::to_string(s_.size()) + " bytes exceed the limit of " +
                                std::to_string(limits_.max_bytes), where_);
    skip_space();
    Value v = value(0);
    skip_space();
    if (i_ != s_.size()) fail("unexpected content after the top-level value");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw ValueError(op_, "invalid JSON: " + what + " at byte " + std::to_string(i_), where_);
  }
  bool at_end() const { return i_ >= s_.size(); }
  char peek() const { return at_end() ? '\0' : s_[i_]; }
  void skip_space() {
    while (!at_end() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  void expect(char c) {
    if (at_end() || s_[i_] != c) fail(std::string("expected '") + c + "'");
    ++i_;
  }
  void literal(std::string_view word) {
    if (s_.substr(i_, word.size()) != word) fail("invalid literal");
    i_ += word.size();
  }

  Value value(int depth) {
    if (++count_ > limits_.max_values)
      fail("more than " + std::to_string(limits_.max_values) + " values");
    Value v;
    v.pos = i_;
    switch (peek()) {
      case '{': object(v, depth + 1); break;
      case '[': array(v, depth + 1); break;
      case '"': v.kind = Value::Kind::string; v.text = string(); break;
      case 't': literal("true"); v.kind = Value::Kind::boolean; v.boolean = true; break;
      case 'f': literal("false"); v.kind = Value::Kind::boolean; break;
      case 'n': literal("null"); break;
      default:
        if (peek() == '-' || (peek() >= '0' && peek() <= '9')) number(v);
        else fail(at_end() ? "unexpected end of input" : "unexpected character");
    }
    return v;
  }

  void enter(int depth) {
    if (depth > limits_.max_depth) fail("nesting deeper than " + std::to_string(limits_.max_depth));
    ++i_;
    skip_space();
  }

  void object(Value& v, int depth) {
    v.kind = Value::Kind::object;
    enter(depth);
    if (peek() == '}') { ++i_; return; }
    while (true) {
      if (peek() != '"') fail("expected a string key");
      std::string key = string();
      skip_space();
      expect(':');
      skip_space();
      v.keys.push_back(std::move(key));
      v.items.push_back(value(depth));
      skip_space();
      if (peek() == ',') { ++i_; skip_space(); continue; }
      expect('}');
      break;
    }
    // Duplicate keys are ambiguous (readers disagree on which wins): refuse them.
    std::vector<size_t> order(v.keys.size());
    for (size_t k = 0; k < order.size(); ++k) order[k] = k;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return v.keys[a] < v.keys[b]; });
    for (size_t k = 1; k < order.size(); ++k)
      if (v.keys[order[k]] == v.keys[order[k - 1]]) {
        i_ = v.items[std::max(order[k], order[k - 1])].pos;
        fail("duplicate key " + quote(v.keys[order[k]].substr(0, 200)));
      }
  }

  void array(Value& v, int depth) {
    v.kind = Value::Kind::array;
    enter(depth);
    if (peek() == ']') { ++i_; return; }
    while (true) {
      v.items.push_back(value(depth));
      skip_space();
      if (peek() == ',') { ++i_; skip_space(); continue; }
      expect(']');
      break;
    }
  }

  uint32_t hex4() {
    if (s_.size() - i_ < 4) fail("truncated \\u escape");
    uint32_t cp = 0;
    for (int k = 0; k < 4; ++k) {
      char c = s_[i_++];
      cp <<= 4;
      if (c >= '0' && c <= '9') cp |= static_cast<uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f') cp |= static_cast<uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') cp |= static_cast<uint32_t>(c - 'A' + 10);
      else { --i_; fail("bad hex digit in \\u escape"); }
    }
    return cp;
  }

  std::string string() {
    ++i_;  // opening quote
    std::string out;
    while (true) {
      if (at_end()) fail("unterminated string");
      unsigned char c = static_cast<unsigned char>(s_[i_]);
      if (c == '"') { ++i_; return out; }
      if (c < 0x20) fail("unescaped control character in a string");
      if (c != '\\') {
        size_t n = utf8_sequence(s_, i_);
        if (n == 0) fail("invalid UTF-8 in a string");
        out.append(s_.substr(i_, n));
        i_ += n;
        continue;
      }
      ++i_;
      if (at_end()) fail("unterminated string");
      char e = s_[i_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          uint32_t cp = hex4();
          if (cp >= 0xDC00 && cp <= 0xDFFF) fail("unpaired low surrogate in \\u escape");
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (s_.substr(i_, 2) != "\\u") fail("high surrogate not followed by a \\u low surrogate");
            i_ += 2;
            uint32_t lo = hex4();
            if (lo < 0xDC00 || lo > 0xDFFF) fail("high surrogate not followed by a low surrogate");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          append_utf8(out, cp);
          break;
        }
        default: --i_; fail("invalid escape in a string");
      }
    }
  }

  static bool digit(char c) { return c >= '0' && c <= '9'; }

  void number(Value& v) {
    size_t b = i_;
    bool negative = peek() == '-';
    if (negative) ++i_;
    if (peek() == '0') {
      ++i_;
      if (digit(peek())) fail("leading zero in a number");
    } else if (digit(peek())) {
      while (digit(peek())) ++i_;
    } else {
      fail("expected a digit");
    }
    size_t int_end = i_;
    bool integral = true;
    if (peek() == '.') {
      integral = false;
      ++i_;
      if (!digit(peek())) fail("expected a digit after '.'");
      while (digit(peek())) ++i_;
    }
    if (peek() == 'e' || peek() == 'E') {
      integral = false;
      ++i_;
      if (peek() == '+' || peek() == '-') ++i_;
      if (!digit(peek())) fail("expected a digit in the exponent");
      while (digit(peek())) ++i_;
    }
    if (integral) {
      // Accumulate toward the sign so INT64_MIN is representable.
      int64_t x = 0;
      bool overflow = false;
      for (size_t k = b + (negative ? 1 : 0); k < int_end && !overflow; ++k) {
        int64_t d = s_[k] - '0';
        overflow = __builtin_mul_overflow(x, int64_t{10}, &x) ||
                   (negative ? __builtin_sub_overflow(x, d, &x) : __builtin_add_overflow(x, d, &x));
      }
      if (!overflow) {
        v.kind = Value::Kind::integer;
        v.integer = x;
        v.number = static_cast<double>(x);
        return;
      }
    }
    double d = 0;
    auto r = std::from_chars(s_.data() + b, s_.data() + i_, d);
    if (r.ec != std::errc() || r.ptr != s_.data() + i_ || !std::isfinite(d)) {
      i_ = b;
      fail("number out of range");
    }
    v.kind = Value::Kind::number;
    v.number = d;
  }

  std::string_view s_;
  const Limits& limits_;
  const char* op_;
  Where where_;
  size_t i_ = 0;
  size_t count_ = 0;
};

}  // namespace

const Value* Value::find(std::string_view key) const {
  if (kind != Kind::object) return nullptr;
  for (size_t k = 0; k < keys.size(); ++k)
    if (keys[k] == key) return &items[k];
  return nullptr;
}

Value parse(std::string_view text, const Limits& limits, const char* op, Where where) {
  return Parser(text, limits, op, where).document();
}

bool is_valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    size_t n = utf8_sequence(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string quote(std::string_view s) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20 || c == 0x7F) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 15];
        } else {
          out += ch;
        }
    }
  }
  out += '"';
  return out;
}

std::string write(const Value& v) {
  switch (v.kind) {
    case Value::Kind::null: return "null";
    case Value::Kind::boolean: return v.boolean ? "true" : "false";
    case Value::Kind::integer: return std::to_string(v.integer);
    case Value::Kind::number: {
      if (!std::isfinite(v.number)) return "null";
      char buf[32];
      auto r = std::to_chars(buf, buf + sizeof buf, v.number);  // shortest round-trip form
      return std::string(buf, r.ptr);
    }
    case Value::Kind::string: return quote(v.text);
    case Value::Kind::array: {
      std::string out = "[";
      for (size_t k = 0; k < v.items.size(); ++k) out += (k ? "," : "") + write(v.items[k]);
      return out + "]";
    }
    case Value::Kind::object: {
      std::string out = "{";
      for (size_t k = 0; k < v.items.size() && k < v.keys.size(); ++k)
        out += (k ? "," : "") + quote(v.keys[k]) + ":" + write(v.items[k]);
      return out + "}";
    }
  }
  return "null";
}

}  // namespace nx::io::json
