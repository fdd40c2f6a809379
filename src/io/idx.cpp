// IDX decoding (raw or gzip'd) and the Fashion-MNIST loader. The layout: two zero bytes, an
// element-type byte, a rank byte, rank big-endian u32 dims, then the big-endian elements.
#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>

#include "io/file.hpp"
#include "io/zip.hpp"
#include "nx/detail/core.hpp"
#include "nx/io/idx.hpp"

namespace nx::io {
namespace {

constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

[[noreturn]] void bad(const std::string& what, Where where) { throw ValueError("load_idx", what, where); }

struct IdxType {
  DType dtype;       // what nx holds it as
  size_t file_size;  // bytes per element in the file
  bool widen_signed; // a signed type narrower than dtype: sign-extend
};

std::optional<IdxType> idx_type(uint8_t code) {
  switch (code) {
    case 0x08: return IdxType{DType::u8, 1, false};
    case 0x09: return IdxType{DType::i32, 1, true};
    case 0x0B: return IdxType{DType::i32, 2, true};
    case 0x0C: return IdxType{DType::i32, 4, false};
    case 0x0D: return IdxType{DType::f32, 4, false};
    case 0x0E: return IdxType{DType::f64, 8, false};
    default: return std::nullopt;
  }
}

// The IDX bytes: the buffer itself, or a gzip stream inflated on demand.
class Source {
 public:
  Source(std::span<const std::byte> b, Where where) : raw_(b) {
    if (detail::is_gzip(b)) gz_.emplace(b, "load_idx", where);
  }
  bool gzip() const { return gz_.has_value(); }
  size_t raw_remaining() const { return raw_.size() - pos_; }
  // Fills up to n bytes; fewer only at the end of the data.
  size_t read(std::byte* dst, size_t n) {
    if (gz_) return gz_->read(dst, n);
    n = std::min(n, raw_remaining());
    if (n) std::memcpy(dst, raw_.data() + pos_, n);
    pos_ += n;
    return n;
  }

 private:
  std::span<const std::byte> raw_;
  size_t pos_ = 0;
  std::optional<detail::GzipReader> gz_;
};

uint64_t big_endian(const std::byte* p, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v = v << 8 | static_cast<uint64_t>(p[i]);
  return v;
}

// File elements (big-endian, `type.file_size` each) -> nx elements in host order.
std::vector<std::byte> to_host(std::vector<std::byte> data, const IdxType& type, size_t n) {
  size_t fs = type.file_size, out_size = static_cast<size_t>(item_size(type.dtype));
  if (fs == 1 && !type.widen_signed) return data;
  std::vector<std::byte> out = fs == out_size ? std::move(data) : std::vector<std::byte>(n * out_size);
  const std::byte* src = fs == out_size ? out.data() : data.data();
  for (size_t i = 0; i < n; ++i) {
    uint64_t v = big_endian(src + i * fs, fs);
    if (type.widen_signed) {
      int32_t s = fs == 1 ? static_cast<int8_t>(v) : static_cast<int16_t>(v);
      std::memcpy(out.data() + i * out_size, &s, 4);
    } else if (out_size == 4) {
      uint32_t u = static_cast<uint32_t>(v);
      std::memcpy(out.data() + i * 4, &u, 4);
    } else {
      std::memcpy(out.data() + i * 8, &v, 8);
    }
  }
  return out;
}

}  // namespace

Tensor decode_idx(std::span<const std::byte> bytes, IdxOpts opts, Where where) {
  Source src(bytes, where);
  std::byte magic[4];
  if (src.read(magic, 4) != 4) bad("too short for the 4-byte IDX magic", where);
  if (magic[0] != std::byte{0} || magic[1] != std::byte{0})
    bad("not an IDX file (the magic must start with two zero bytes)", where);
  auto code = static_cast<uint8_t>(magic[2]);
  std::optional<IdxType> type = idx_type(code);
  if (!type) {
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02X", code);
    bad(std::string("unknown element type ") + hex + " (IDX knows 0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E)", where);
  }
  int rank = static_cast<int>(magic[3]);
  if (rank < 1 || rank > kMaxRank)
    bad("rank " + std::to_string(rank) + " is outside 1.." + std::to_string(kMaxRank), where);
  std::byte dims[4 * kMaxRank];
  size_t dims_len = 4 * static_cast<size_t>(rank);
  if (src.read(dims, dims_len) != dims_len) bad("truncated: the file ends inside the dims", where);
  std::array<int64_t, kMaxRank> dims_read{};
  for (int i = 0; i < rank; ++i) dims_read[static_cast<size_t>(i)] = static_cast<int64_t>(big_endian(dims + 4 * i, 4));
  std::span<const int64_t> dim_list(dims_read.data(), static_cast<size_t>(rank));
  std::optional<int64_t> count = checked_element_count(dim_list);
  if (!count) bad("dims " + dims_str(dim_list) + " overflow a 64-bit element count", where);
  uint64_t n = static_cast<uint64_t>(*count);
  Shape shape(dim_list);
  uint64_t data_bytes, out_bytes;
  if (__builtin_mul_overflow(n, uint64_t{type->file_size}, &data_bytes) || data_bytes > uint64_t{INT64_MAX} ||
      __builtin_mul_overflow(n, static_cast<uint64_t>(item_size(type->dtype)), &out_bytes))
    bad("dims " + shape.str() + " need more bytes than can exist", where);
  std::string need = "dims " + shape.str() + " need " + std::to_string(data_bytes) + " bytes of data";
  if (!src.gzip() && data_bytes != src.raw_remaining())
    bad(need + " but the file holds " + std::to_string(src.raw_remaining()), where);
  // Limit what is finally allocated: widening makes it up to 4x the file's data.
  if (out_bytes > opts.max_bytes)
    bad("dims " + shape.str() + " decode to " + std::to_string(out_bytes) + " bytes of " +
            std::string(name(type->dtype)) + ", above the limit of " + std::to_string(opts.max_bytes) +
            " bytes (IdxOpts::max_bytes)",
        where);
  // gzip: grow with the real output, so a stream shorter than its dims claim costs little.
  std::vector<std::byte> data;
  while (data.size() < data_bytes) {
    size_t old = data.size();
    size_t next = src.gzip() ? static_cast<size_t>(std::min<uint64_t>(data_bytes, std::max<uint64_t>(2 * old, 1 << 20)))
                             : static_cast<size_t>(data_bytes);
    data.resize(next);
    size_t got = src.read(data.data() + old, next - old);
    if (got < next - old) bad(need + " but the gzip data holds only " + std::to_string(old + got), where);
  }
  std::byte extra;
  if (src.read(&extra, 1) != 0) bad(need + " but the gzip data holds more", where);  // also checks the gzip trailer
  auto keep = std::make_shared<std::vector<std::byte>>(to_host(std::move(data), *type, static_cast<size_t>(n)));
  return nx::detail::adopt_host(TensorType{type->dtype, shape}, keep->data(), keep);
}

Tensor load_idx(const std::string& path, IdxOpts opts, Where where) {
  detail::FileBytes file = detail::read_whole_file(path, /*mmap=*/false, "load_idx", where);
  try {
    return decode_idx(file.bytes, opts, where);
  } catch (const Error& e) {
    bad(path + ": " + e.detail(), where);
  }
}

FashionMnist load_fashion_mnist(const std::string& dir, Where where) {
  auto fail = [&](const std::string& what) { throw ValueError("load_fashion_mnist", what, where); };
  std::string root = dir;
  if (root.empty()) {
    const char* env = std::getenv("NX_FASHION_MNIST_DIR");
    root = env && *env ? env : kFashionMnistDir;
  }
  auto find = [&](const std::string& base) {
    for (const char* ext : {".gz", ""}) {
      std::error_code ec;
      std::string p = root + "/" + base + ext;
      if (std::filesystem::is_regular_file(p, ec)) return p;
    }
    fail("cannot find " + base + "[.gz] in '" + root +
         "'; install the data set with `sudo apt-get install dataset-fashion-mnist`, or set "
         "NX_FASHION_MNIST_DIR to a directory holding its four IDX files");
    return std::string();
  };
  // Locate all four before reading any.
  std::string paths[4] = {find("train-images-idx3-ubyte"), find("train-labels-idx1-ubyte"),
                          find("t10k-images-idx3-ubyte"), find("t10k-labels-idx1-ubyte")};
  auto split = [&](const std::string& images_path, const std::string& labels_path, Tensor& images, Tensor& labels) {
    images = load_idx(images_path, {}, where);
    labels = load_idx(labels_path, {}, where);
    if (images.dtype() != DType::u8 || images.rank() != 3 || images.dim(1) != 28 || images.dim(2) != 28)
      fail(images_path + " holds " + std::string(name(images.dtype())) + images.shape().str() +
           ", not u8 images of shape (N, 28, 28)");
    if (labels.dtype() != DType::u8 || labels.rank() != 1 || labels.dim(0) != images.dim(0))
      fail(labels_path + " holds " + std::string(name(labels.dtype())) + labels.shape().str() + ", not " +
           std::to_string(images.dim(0)) + " u8 labels");
    std::vector<uint8_t> l = labels.to_vector<uint8_t>();
    if (std::any_of(l.begin(), l.end(), [](uint8_t v) { return v > 9; }))
      fail(labels_path + " holds a label outside 0..9");
  };
  FashionMnist out;
  split(paths[0], paths[1], out.train_images, out.train_labels);
  split(paths[2], paths[3], out.test_images, out.test_labels);
  return out;
}

}  // namespace nx::io
