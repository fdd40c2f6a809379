// A small strict JSON (RFC 8259) reader for untrusted input, and a writer. Internal to the
// io code (safetensors headers, checkpoints); not installed.
//
// The reader accepts exactly the JSON grammar: no comments, trailing commas, NaN or
// single quotes. Strings must be valid UTF-8 and \u escapes must pair surrogates correctly.
// Objects may not repeat a key. Input size, nesting depth and the number of values are
// capped so a hostile document cannot exhaust the stack or memory.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "nx/error.hpp"

namespace nx::io::json {

struct Limits {
  size_t max_bytes = 100'000'000;
  int max_depth = 64;
  // Every value counts, object members included. Bounds the tree's memory (~100 bytes each).
  size_t max_values = size_t{1} << 22;
};

struct Value {
  enum class Kind : uint8_t { null, boolean, integer, number, string, array, object };
  Kind kind = Kind::null;
  bool boolean = false;
  // Kind::integer: a literal with no fraction or exponent that fits in int64. Such numbers
  // are exact here; any other number is Kind::number and only has `number`.
  int64_t integer = 0;
  double number = 0;
  size_t pos = 0;                 // offset of the value's first byte in the parsed text
  std::string text;               // Kind::string, decoded
  std::vector<Value> items;       // array elements; object member values
  std::vector<std::string> keys;  // object member keys, parallel to items, in text order

  bool is(Kind k) const { return kind == k; }
  // The member named `key` of an object, or null when absent (or not an object).
  const Value* find(std::string_view key) const;
};

// Parses `text` as one JSON value, optionally followed by whitespace. Throws
// ValueError(op, "invalid JSON: <what> at byte <k>", where) on any violation.
Value parse(std::string_view text, const Limits& limits, const char* op, Where where);

// True when `s` is well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF).
bool is_valid_utf8(std::string_view s);

// `s` as a JSON string literal: quotes, backslashes and control characters escaped, other
// bytes as they are (so `s` should be valid UTF-8 for the result to be valid JSON).
std::string quote(std::string_view s);

// Compact JSON text for `v`. Non-finite numbers, which JSON cannot express, become null.
std::string write(const Value& v);

}  // namespace nx::io::json
