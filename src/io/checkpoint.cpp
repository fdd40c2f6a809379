// Checkpoints as checksummed safetensors files, written atomically.
#include <algorithm>
#include <bit>
#include <charconv>
#include <cstring>

#include "nx/io/checkpoint.hpp"
#include "io/safetensors_format.hpp"

namespace nx::detail {
using io::Checkpoint;
using io::TensorDict;

namespace {
constexpr uint64_t P1 = 0x9E3779B97F4A7C15ull, P2 = 0xC2B2AE3D27D4EB4Full, P3 = 0x165667B19E3779F9ull;

uint64_t load_le64(const std::byte* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);  // the host is little-endian (checked in io_safetensors.cpp)
  return v;
}
}  // namespace

Hash64::Hash64() {
  for (int i = 0; i < 4; ++i) lane_[i] = P3 * static_cast<uint64_t>(i + 1);
}

void Hash64::block(const std::byte* p) {
  for (int i = 0; i < 4; ++i) lane_[i] = std::rotl(lane_[i] + load_le64(p + 8 * i) * P2, 31) * P1;
}

void Hash64::update(const std::byte* data, size_t n) {
  total_ += n;
  if (buffered_ > 0) {
    size_t take = std::min(n, 32 - buffered_);
    std::memcpy(pending_ + buffered_, data, take);
    buffered_ += take;
    data += take;
    n -= take;
    if (buffered_ < 32) return;
    block(pending_);
    buffered_ = 0;
  }
  for (; n >= 32; data += 32, n -= 32) block(data);
  if (n > 0) std::memcpy(pending_, data, n);
  buffered_ = n;
}

uint64_t Hash64::digest() const {
  Hash64 h = *this;  // digest() leaves the stream usable
  if (h.buffered_ > 0) {
    std::memset(h.pending_ + h.buffered_, 0, 32 - h.buffered_);
    h.block(h.pending_);
  }
  uint64_t x = total_ * P1;
  for (uint64_t v : h.lane_) x = std::rotl(x ^ (std::rotl(v * P2, 31) * P1), 27) * P1 + P3;
  x ^= x >> 33;
  x *= P2;
  x ^= x >> 29;
  x *= P3;
  x ^= x >> 32;
  return x;
}

namespace {

constexpr const char* kFormat = "nx-checkpoint-1";
constexpr const char* kPlaceholder = "0000000000000000";
constexpr size_t kDigits = 16;

std::string hex16(uint64_t v) {
  static const char kHex[] = "0123456789abcdef";
  std::string s(kDigits, '0');
  for (size_t i = 0; i < kDigits; ++i) s[kDigits - 1 - i] = kHex[(v >> (4 * i)) & 15];
  return s;
}

const std::byte* as_bytes(const std::string& s) { return reinterpret_cast<const std::byte*>(s.data()); }

// The safetensors form of `c`, with the checksum still the placeholder.
struct CheckpointPlan {
  TensorDict tensors;  // handles only: no tensor data is copied
  SafetensorsPlan plan;
  size_t checksum_at = 0;  // offset of the first hex digit in the header
};

CheckpointPlan plan_checkpoint(const Checkpoint& c, const char* op, Where where) {
  CheckpointPlan p;
  for (const auto& [k, t] : c.params) p.tensors.emplace("params." + k, t);
  for (const auto& [k, t] : c.optimizer_state) p.tensors.emplace("optimizer_state." + k, t);
  std::map<std::string, std::string> meta;
  for (const auto& [k, v] : c.metadata) meta.emplace("user." + k, v);
  meta["nx.format"] = kFormat;
  meta["nx.step"] = std::to_string(c.step);
  meta["nx.checksum"] = kPlaceholder;
  p.plan = plan_safetensors(p.tensors, meta, op, where);
  p.checksum_at = p.plan.metadata_offsets.at("nx.checksum") + 1;
  return p;
}

// Checks `file` as a checkpoint and splits it up; tensors view `file` when `keep` is set.
Checkpoint read_checkpoint(std::span<const std::byte> file, std::shared_ptr<void> keep, const char* op,
                           Where where) {
  auto bad = [&](const std::string& what) { throw ValueError(op, what, where); };
  SafetensorsLayout layout = parse_safetensors(file, op, where);
  auto format = layout.metadata.find("nx.format");
  if (format == layout.metadata.end()) bad("not an nx checkpoint: no \"nx.format\" metadata");
  if (format->second != kFormat)
    bad("unsupported checkpoint format " + quoted_for_error(format->second) + " (expected \"" + kFormat + "\")");

  auto sum = layout.metadata.find("nx.checksum");
  if (sum == layout.metadata.end()) bad("no \"nx.checksum\" metadata");
  size_t at = layout.metadata_offsets.at("nx.checksum");
  // The digits must sit verbatim (no escapes) in the header so they can be blanked out.
  bool well_formed = sum->second.size() == kDigits && at + kDigits + 2 <= layout.data_start &&
                     std::memcmp(file.data() + at + 1, sum->second.data(), kDigits) == 0 &&
                     file[at + kDigits + 1] == std::byte{'"'} &&
                     sum->second.find_first_not_of("0123456789abcdef") == std::string::npos;
  if (!well_formed) bad("malformed \"nx.checksum\" " + quoted_for_error(sum->second) + " (expected 16 lowercase hex digits)");
  Hash64 h;
  h.update(file.data(), at + 1);
  h.update(reinterpret_cast<const std::byte*>(kPlaceholder), kDigits);
  h.update(file.data() + at + 1 + kDigits, file.size() - (at + 1 + kDigits));
  std::string computed = hex16(h.digest());
  if (computed != sum->second)
    bad("checksum mismatch: the file is corrupt or was modified (stored " + sum->second + ", computed " +
        computed + ")");

  Checkpoint c;
  for (const auto& [k, v] : layout.metadata) {
    if (k.rfind("user.", 0) == 0) c.metadata.emplace(k.substr(5), v);
    else if (k != "nx.format" && k != "nx.checksum" && k != "nx.step") bad("unexpected metadata key " + quoted_for_error(k));
  }
  auto step = layout.metadata.find("nx.step");
  if (step == layout.metadata.end()) bad("no \"nx.step\" metadata");
  const std::string& s = step->second;
  auto r = std::from_chars(s.data(), s.data() + s.size(), c.step);
  if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size())
    bad("\"nx.step\" " + quoted_for_error(s) + " is not a 64-bit integer");

  for (auto& [name, t] : safetensors_tensors(layout, file, std::move(keep), op, where)) {
    if (name.rfind("params.", 0) == 0) c.params.emplace(name.substr(7), std::move(t));
    else if (name.rfind("optimizer_state.", 0) == 0) c.optimizer_state.emplace(name.substr(16), std::move(t));
    else bad("unexpected tensor " + quoted_for_error(name) + " (checkpoint tensors are params.* or optimizer_state.*)");
  }
  return c;
}

}  // namespace
}  // namespace nx::detail

namespace nx::io {

std::vector<std::byte> encode_checkpoint(const Checkpoint& c, Where where) {
  detail::CheckpointPlan p = detail::plan_checkpoint(c, "save_checkpoint", where);
  std::vector<std::byte> out(detail::as_bytes(p.plan.header), detail::as_bytes(p.plan.header) + p.plan.header.size());
  out.reserve(p.plan.header.size() + p.plan.data_bytes);
  for (const auto* kv : p.plan.order)
    detail::tensor_bytes(kv->second, [&](const std::byte* d, size_t n) { out.insert(out.end(), d, d + n); });
  detail::Hash64 h;
  h.update(out.data(), out.size());
  std::string digits = detail::hex16(h.digest());
  std::memcpy(out.data() + p.checksum_at, digits.data(), digits.size());
  return out;
}

void save_checkpoint(const std::string& path, const Checkpoint& c, Where where) {
  const char* op = "save_checkpoint";
  detail::CheckpointPlan p = detail::plan_checkpoint(c, op, where);
  detail::AtomicFile file(path, op, where);
  detail::Hash64 h;
  auto emit = [&](const std::byte* d, size_t n) {
    h.update(d, n);
    file.write(d, n);
  };
  emit(detail::as_bytes(p.plan.header), p.plan.header.size());
  for (const auto* kv : p.plan.order) detail::tensor_bytes(kv->second, emit);
  std::string digits = detail::hex16(h.digest());
  file.write_at(p.checksum_at, digits.data(), digits.size());
  file.commit();
}

Checkpoint decode_checkpoint(std::span<const std::byte> bytes, Where where) {
  return detail::read_checkpoint(bytes, nullptr, "decode_checkpoint", where);
}

Checkpoint load_checkpoint(const std::string& path, Where where) {
  const char* op = "load_checkpoint";
  detail::FileBytes file = detail::read_whole_file(path, /*mmap=*/true, op, where);
  try {
    return detail::read_checkpoint(file.bytes, file.keep, op, where);
  } catch (const Error& e) {
    throw ValueError(op, "'" + path + "': " + e.detail(), where);
  }
}

}  // namespace nx::io
