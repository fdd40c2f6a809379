// safetensors: a header validator that trusts nothing in the file, zero-copy loading over
// a read-only mapping, and a streaming, atomic writer.
#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>

#include "io/json.hpp"
#include "nx/backend.hpp"
#include "nx/detail/core.hpp"
#include "io/safetensors_format.hpp"

namespace nx::detail {
namespace {
using io::TensorDict;
namespace json = io::json;

constexpr uint64_t kMaxHeader = 100'000'000;  // the spec's limit

struct DTypeName {
  const char* name;
  DType dtype;
};
constexpr DTypeName kDTypes[] = {{"BOOL", DType::bool_}, {"U8", DType::u8},    {"U32", DType::u32},
                                 {"I32", DType::i32},    {"I64", DType::i64},  {"F16", DType::f16},
                                 {"BF16", DType::bf16},  {"F32", DType::f32},  {"F64", DType::f64}};

const char* safetensors_name(DType t) {
  for (const auto& d : kDTypes)
    if (d.dtype == t) return d.name;
  return "?";
}

std::string supported_list() {
  std::string s;
  for (const auto& d : kDTypes) s += std::string(s.empty() ? "" : ", ") + d.name;
  return s;
}

uint64_t read_le64(const std::byte* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = v << 8 | static_cast<uint64_t>(p[i]);
  return v;
}

std::string le64(uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[static_cast<size_t>(i)] = static_cast<char>(v >> (8 * i));
  return s;
}

// One tensor entry of the header, checked field by field.
SafetensorsEntry parse_entry(const std::string& name, const json::Value& v, uint64_t data_size,
                             const char* op, Where where) {
  auto bad = [&](const std::string& what) { throw ValueError(op, "tensor " + quoted_for_error(name) + ": " + what, where); };
  using K = json::Value::Kind;
  if (!v.is(K::object)) bad("its header entry is not a JSON object");
  for (const std::string& key : v.keys)
    if (key != "dtype" && key != "shape" && key != "data_offsets")
      bad("unknown field " + quoted_for_error(key) + " (entries have exactly dtype, shape and data_offsets)");
  const json::Value* dtype = v.find("dtype");
  const json::Value* shape = v.find("shape");
  const json::Value* offsets = v.find("data_offsets");
  if (!dtype) bad("no \"dtype\" field");
  if (!shape) bad("no \"shape\" field");
  if (!offsets) bad("no \"data_offsets\" field");

  SafetensorsEntry e;
  e.name = name;
  if (!dtype->is(K::string)) bad("\"dtype\" is not a string");
  const DTypeName* found = nullptr;
  for (const auto& d : kDTypes)
    if (dtype->text == d.name) found = &d;
  if (!found)
    bad("unsupported dtype " + quoted_for_error(dtype->text) + " (nx reads " + supported_list() + ")");
  e.dtype = found->dtype;

  if (!shape->is(K::array)) bad("\"shape\" is not an array");
  if (shape->items.size() > static_cast<size_t>(kMaxRank))
    bad("rank " + std::to_string(shape->items.size()) + " is above nx's limit of " + std::to_string(kMaxRank));
  std::vector<int64_t> dims;
  for (const json::Value& d : shape->items) {
    if (!d.is(K::integer) || d.integer < 0) bad("\"shape\" must hold non-negative integers");
    dims.push_back(d.integer);
  }
  std::optional<int64_t> count = checked_element_count(dims);  // in any axis order
  int64_t bytes = 0;
  if (!count || __builtin_mul_overflow(*count, static_cast<int64_t>(item_size(e.dtype)), &bytes))
    bad("shape " + dims_str(dims) + " is too large: its byte size overflows");
  e.shape = Shape(dims);

  if (!offsets->is(K::array) || offsets->items.size() != 2 || !offsets->items[0].is(K::integer) ||
      !offsets->items[1].is(K::integer) || offsets->items[0].integer < 0 || offsets->items[1].integer < 0)
    bad("\"data_offsets\" must be [begin, end] with non-negative integers");
  e.begin = static_cast<uint64_t>(offsets->items[0].integer);
  e.end = static_cast<uint64_t>(offsets->items[1].integer);
  std::string range = "[" + std::to_string(e.begin) + ", " + std::to_string(e.end) + "]";
  if (e.end < e.begin) bad("data_offsets " + range + " end before they begin");
  if (e.end - e.begin != static_cast<uint64_t>(bytes))
    bad("dtype " + std::string(found->name) + " and shape " + e.shape.str() + " need " + std::to_string(bytes) +
        " bytes but data_offsets " + range + " span " + std::to_string(e.end - e.begin));
  if (e.end > data_size)
    bad("data_offsets " + range + " run past the data section's " + std::to_string(data_size) + " bytes");
  return e;
}

void put(const std::byte* data, size_t n, std::vector<std::byte>& out) { out.insert(out.end(), data, data + n); }

}  // namespace


SafetensorsLayout parse_safetensors(std::span<const std::byte> file, const char* op, Where where) {
  auto bad = [&](const std::string& what) { throw ValueError(op, what, where); };
  if (file.size() < 8)
    bad("the file has " + std::to_string(file.size()) + " bytes, too few for the 8-byte header length");
  uint64_t n = read_le64(file.data());
  if (n > kMaxHeader)
    bad("header length " + std::to_string(n) + " exceeds the limit of " + std::to_string(kMaxHeader) + " bytes");
  if (n > file.size() - 8)
    bad("header length " + std::to_string(n) + " runs past the end of the file (" + std::to_string(file.size() - 8) +
        " bytes follow the length)");
  SafetensorsLayout layout;
  layout.data_start = static_cast<size_t>(8 + n);
  uint64_t data_size = file.size() - layout.data_start;

  json::Limits limits;
  limits.max_bytes = kMaxHeader;
  limits.max_depth = 16;           // real headers nest 3 deep
  limits.max_values = size_t{1} << 21;  // ~200k tensors
  json::Value root;
  try {
    root = json::parse(std::string_view(reinterpret_cast<const char*>(file.data() + 8), static_cast<size_t>(n)),
                       limits, op, where);
  } catch (const Error& e) {
    bad("the header is " + e.detail() + " of the header");
  }
  if (!root.is(json::Value::Kind::object)) bad("the header is not a JSON object");

  for (size_t k = 0; k < root.keys.size(); ++k) {
    const std::string& key = root.keys[k];
    const json::Value& v = root.items[k];
    if (key != "__metadata__") {
      layout.entries.push_back(parse_entry(key, v, data_size, op, where));
      continue;
    }
    if (v.is(json::Value::Kind::null)) continue;  // as the reference reader allows
    if (!v.is(json::Value::Kind::object)) bad("\"__metadata__\" is not an object of strings");
    for (size_t m = 0; m < v.keys.size(); ++m) {
      if (!v.items[m].is(json::Value::Kind::string))
        bad("metadata value for key " + quoted_for_error(v.keys[m]) + " is not a string");
      layout.metadata[v.keys[m]] = v.items[m].text;
      layout.metadata_offsets[v.keys[m]] = 8 + v.items[m].pos;
    }
  }

  // The ranges, in file order, must tile the data section exactly.
  std::sort(layout.entries.begin(), layout.entries.end(), [](const auto& a, const auto& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t cursor = 0;
  const SafetensorsEntry* prev = nullptr;
  for (const SafetensorsEntry& e : layout.entries) {
    if (e.begin > cursor)
      bad("bytes " + std::to_string(cursor) + " to " + std::to_string(e.begin) +
          " of the data section belong to no tensor");
    if (e.begin < cursor)
      bad("the data of tensors " + quoted_for_error(prev->name) + " and " + quoted_for_error(e.name) + " overlap");
    cursor = e.end;
    prev = &e;
  }
  if (cursor != data_size)
    bad("the tensors cover " + std::to_string(cursor) + " bytes of a data section of " + std::to_string(data_size) +
        " (trailing bytes)");
  return layout;
}

TensorDict safetensors_tensors(const SafetensorsLayout& layout, std::span<const std::byte> file,
                               std::shared_ptr<void> keep, const char* op, Where where) {
  TensorDict out;
  for (const SafetensorsEntry& e : layout.entries) {
    const std::byte* p = file.data() + layout.data_start + e.begin;
    size_t n = static_cast<size_t>(e.end - e.begin);
    TensorType type{e.dtype, e.shape};
    Tensor t;
    bool odd_bools = e.dtype == DType::bool_ && std::any_of(p, p + n, [](std::byte b) { return b > std::byte{1}; });
    if (odd_bools) {
      // Any nonzero byte is true; kernels expect exactly 0 or 1.
      std::vector<std::byte> norm(p, p + n);
      for (auto& b : norm) b = std::byte{b != std::byte{0}};
      t = from_bytes(norm.data(), e.dtype, e.shape, where);
    } else if (keep) {
      t = adopt_host(std::move(type), p, keep);
    } else {
      t = from_bytes(p, e.dtype, e.shape, where);
    }
    out.emplace(e.name, std::move(t));
  }
  return out;
}

SafetensorsPlan plan_safetensors(const TensorDict& tensors, const std::map<std::string, std::string>& metadata,
                                 const char* op, Where where) {
  SafetensorsPlan plan;
  for (const auto& kv : tensors) {
    const auto& [name, t] = kv;
    if (!t.defined()) throw ValueError(op, "tensor " + quoted_for_error(name) + " is undefined", where);
    if (t.is_traced()) throw ValueError(op, "cannot save traced tensor " + quoted_for_error(name) + " inside nx::jit", where);
    if (!json::is_valid_utf8(name)) throw ValueError(op, "tensor name " + quoted_for_error(name) + " is not valid UTF-8", where);
    if (name == "__metadata__") throw ValueError(op, "a tensor may not be named \"__metadata__\"", where);
    plan.order.push_back(&kv);
  }
  for (const auto& [k, v] : metadata)
    if (!json::is_valid_utf8(k) || !json::is_valid_utf8(v))
      throw ValueError(op, "metadata entry " + quoted_for_error(k) + " is not valid UTF-8", where);
  // Larger elements first keeps every tensor aligned to its element size.
  std::stable_sort(plan.order.begin(), plan.order.end(), [](const auto* a, const auto* b) {
    return item_size(a->second.dtype()) > item_size(b->second.dtype());
  });

  std::string h = "{";
  if (!metadata.empty()) {
    h += "\"__metadata__\":{";
    for (const auto& [k, v] : metadata) {
      if (h.back() != '{') h += ',';
      h += json::quote(k) + ':';
      plan.metadata_offsets[k] = 8 + h.size();
      h += json::quote(v);
    }
    h += '}';
  }
  uint64_t offset = 0;
  for (const auto* kv : plan.order) {
    const Tensor& t = kv->second;
    uint64_t bytes = TensorType{t.dtype(), t.shape()}.bytes(op, where);
    uint64_t end = 0;
    if (__builtin_add_overflow(offset, bytes, &end)) throw ValueError(op, "the tensors are too large to save", where);
    if (h.size() > 1) h += ',';
    h += json::quote(kv->first) + ":{\"dtype\":\"" + safetensors_name(t.dtype()) + "\",\"shape\":[";
    for (int i = 0; i < t.rank(); ++i) h += (i ? "," : "") + std::to_string(t.shape()[i]);
    h += "],\"data_offsets\":[" + std::to_string(offset) + "," + std::to_string(end) + "]}";
    offset = end;
  }
  h += '}';
  h.append((8 - h.size() % 8) % 8, ' ');  // so the data starts 8-byte aligned
  if (h.size() > kMaxHeader) throw ValueError(op, "the header would exceed " + std::to_string(kMaxHeader) + " bytes", where);
  plan.header = le64(h.size()) + h;
  plan.data_bytes = offset;
  return plan;
}

void tensor_bytes(const Tensor& t, const std::function<void(const std::byte*, size_t)>& sink) {
  size_t n = TensorType{t.dtype(), t.shape()}.bytes();
  if (n == 0) return;
  static_assert(std::endian::native == std::endian::little, "nx++ assumes a little-endian host");
  const BufferPtr& b = t.buffer();
  if (b->owner()->host_accessible()) {
    sink(static_cast<const std::byte*>(b->data()), n);
  } else {
    std::vector<std::byte> host(b->bytes());
    b->owner()->to_host(*b, host.data(), host.size());
    sink(host.data(), n);
  }
}

}  // namespace nx::detail

namespace nx::io {

std::vector<std::byte> encode_safetensors(const TensorDict& tensors, const std::map<std::string, std::string>& metadata,
                                          Where where) {
  detail::SafetensorsPlan plan = detail::plan_safetensors(tensors, metadata, "save_safetensors", where);
  std::vector<std::byte> out;
  out.reserve(plan.header.size() + plan.data_bytes);
  detail::put(reinterpret_cast<const std::byte*>(plan.header.data()), plan.header.size(), out);
  for (const auto* kv : plan.order)
    detail::tensor_bytes(kv->second, [&](const std::byte* p, size_t n) { detail::put(p, n, out); });
  return out;
}

void save_safetensors(const std::string& path, const TensorDict& tensors,
                      const std::map<std::string, std::string>& metadata, Where where) {
  const char* op = "save_safetensors";
  detail::SafetensorsPlan plan = detail::plan_safetensors(tensors, metadata, op, where);
  detail::AtomicFile file(path, op, where);
  file.write(plan.header.data(), plan.header.size());
  for (const auto* kv : plan.order)
    detail::tensor_bytes(kv->second, [&](const std::byte* p, size_t n) { file.write(p, n); });
  file.commit();
}

Safetensors decode_safetensors(std::span<const std::byte> bytes, Where where) {
  const char* op = "decode_safetensors";
  detail::SafetensorsLayout layout = detail::parse_safetensors(bytes, op, where);
  return {detail::safetensors_tensors(layout, bytes, nullptr, op, where), std::move(layout.metadata)};
}

Safetensors load_safetensors(const std::string& path, SafetensorsLoadOpts opts, Where where) {
  const char* op = "load_safetensors";
  detail::FileBytes file = detail::read_whole_file(path, opts.mmap, op, where);
  try {
    detail::SafetensorsLayout layout = detail::parse_safetensors(file.bytes, op, where);
    return {detail::safetensors_tensors(layout, file.bytes, file.keep, op, where), std::move(layout.metadata)};
  } catch (const Error& e) {
    throw ValueError(op, "'" + path + "': " + e.detail(), where);
  }
}

}  // namespace nx::io
