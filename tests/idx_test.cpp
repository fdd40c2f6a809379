// IDX files: every element type, raw and gzip'd, hostile headers and streams, Fashion-MNIST.
#include <gtest/gtest.h>

#include <optional>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <numbers>
#include <numeric>

#include "nx/io/idx.hpp"
#include "nx/nx.hpp"
#include "test_support.hpp"

namespace {

using nx_test::expect_op_error;

std::vector<std::byte> bytes_of(const std::string& s) {
  std::vector<std::byte> b(s.size());
  if (!s.empty()) std::memcpy(b.data(), s.data(), s.size());
  return b;
}

void put_be(std::string& s, uint64_t v, int n) {
  for (int i = n - 1; i >= 0; --i) s += static_cast<char>((v >> (8 * i)) & 0xff);
}
void put_le(std::string& s, uint64_t v, int n) {
  for (int i = 0; i < n; ++i) s += static_cast<char>((v >> (8 * i)) & 0xff);
}
template <class T> std::string be_values(std::initializer_list<T> vs) {
  std::string s;
  for (T v : vs) {
    uint64_t bits = 0;
    std::memcpy(&bits, &v, sizeof v);
    put_be(s, bits, sizeof v);
  }
  return s;
}

std::string idx(int type, const std::vector<uint32_t>& dims, const std::string& data) {
  std::string s{'\0', '\0', static_cast<char>(type), static_cast<char>(dims.size())};
  for (uint32_t d : dims) put_be(s, d, 4);
  return s + data;
}

using nx_test::crc32;

// A gzip member holding `payload` in stored (uncompressed) deflate blocks.
std::string gzip_stored(const std::string& payload) {
  std::string s("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03", 10);
  size_t at = 0;
  do {
    size_t n = std::min<size_t>(payload.size() - at, 65535);
    s += static_cast<char>(at + n == payload.size() ? 1 : 0);  // BFINAL, BTYPE 00
    put_le(s, n, 2);
    put_le(s, ~n & 0xFFFF, 2);
    s += payload.substr(at, n);
    at += n;
  } while (at < payload.size());
  put_le(s, crc32(payload), 4);
  put_le(s, payload.size() & 0xFFFFFFFF, 4);
  return s;
}

nx::Tensor decode(const std::string& s) { return nx::io::decode_idx(bytes_of(s)); }

void expect_refused(const std::string& file, const std::string& needle, const char* src = __builtin_FILE()) {
  expect_op_error<nx::ValueError>([&] { decode(file); }, "load_idx", needle, src);
}

TEST(Idx, DecodesEveryElementType) {
  nx::Tensor a = decode(idx(0x08, {2, 3}, std::string("\x00\x01\x02\x03\x04\xff", 6)));
  EXPECT_EQ(a.dtype(), nx::u8);
  EXPECT_EQ(a.shape(), nx::Shape({2, 3}));
  EXPECT_EQ(a.to_vector<int>(), (std::vector<int>{0, 1, 2, 3, 4, 255}));
  // Signed bytes and shorts widen to i32.
  nx::Tensor b = decode(idx(0x09, {4}, std::string("\x80\xff\x00\x7f", 4)));
  EXPECT_EQ(b.dtype(), nx::i32);
  EXPECT_EQ(b.to_vector<int32_t>(), (std::vector<int32_t>{-128, -1, 0, 127}));
  nx::Tensor c = decode(idx(0x0B, {3}, be_values<int16_t>({-32768, -1, 300})));
  EXPECT_EQ(c.dtype(), nx::i32);
  EXPECT_EQ(c.to_vector<int32_t>(), (std::vector<int32_t>{-32768, -1, 300}));
  nx::Tensor d = decode(idx(0x0C, {2}, be_values<int32_t>({std::numeric_limits<int32_t>::min(), 123456789})));
  EXPECT_EQ(d.dtype(), nx::i32);
  EXPECT_EQ(d.to_vector<int32_t>(), (std::vector<int32_t>{std::numeric_limits<int32_t>::min(), 123456789}));
  float inf = std::numeric_limits<float>::infinity();
  nx::Tensor e = decode(idx(0x0D, {2}, be_values<float>({1.5f, -inf})));
  EXPECT_EQ(e.dtype(), nx::f32);
  EXPECT_EQ(e.to_vector<float>(), (std::vector<float>{1.5f, -inf}));
  nx::Tensor f = decode(idx(0x0E, {1, 2}, be_values<double>({std::numbers::pi, -0.25})));
  EXPECT_EQ(f.dtype(), nx::f64);
  EXPECT_EQ(f.to_vector<double>(), (std::vector<double>{std::numbers::pi, -0.25}));
}

TEST(Idx, EveryRankAndEmptyDims) {
  for (int rank = 1; rank <= 8; ++rank) {
    std::vector<uint32_t> dims;
    nx::Shape shape;
    for (int i = 0; i < rank; ++i) dims.push_back(i % 3 + 1), shape.push_back(i % 3 + 1);
    std::string data;
    for (int64_t i = 0; i < shape.size(); ++i) data += static_cast<char>(i);
    nx::Tensor t = decode(idx(0x08, dims, data));
    ASSERT_EQ(t.shape(), shape);
    EXPECT_EQ(t.to_vector<int64_t>(), nx::iota(shape).to_vector<int64_t>());
  }
  EXPECT_EQ(decode(idx(0x0D, {0, 28, 28}, "")).shape(), nx::Shape({0, 28, 28}));
  EXPECT_EQ(decode(gzip_stored(idx(0x0D, {0, 28, 28}, ""))).shape(), nx::Shape({0, 28, 28}));
}

TEST(Idx, ReadsGzip) {
  std::string raw = idx(0x0B, {2, 3}, be_values<int16_t>({-2, -1, 0, 1, 2, 300}));
  std::vector<int32_t> want{-2, -1, 0, 1, 2, 300};
  EXPECT_EQ(decode(gzip_stored(raw)).to_vector<int32_t>(), want);
  // Concatenated members (`cat a.gz b.gz`) and zero padding after the last, as gzip accepts.
  EXPECT_EQ(decode(gzip_stored(raw.substr(0, 7)) + gzip_stored(raw.substr(7))).to_vector<int32_t>(), want);
  EXPECT_EQ(decode(gzip_stored(raw) + std::string(8, '\0')).to_vector<int32_t>(), want);
  // Python's gzip module (real deflate blocks): golden/io/idx_i16.idx.gz holds the same array.
  nx::Tensor py = nx::io::load_idx(std::string(NX_TEST_DATA_DIR) + "/io/idx_i16.idx.gz");
  EXPECT_EQ(py.shape(), nx::Shape({2, 3}));
  EXPECT_EQ(py.to_vector<int32_t>(), want);
  // More than one 64 KiB stored block.
  std::string big(200000, '\x07');
  nx::Tensor b = decode(gzip_stored(idx(0x08, {200000}, big)));
  EXPECT_EQ(b.size(), 200000);
  EXPECT_EQ(b.to_vector<uint8_t>()[199999], 7);
}

TEST(Idx, LoadsFiles) {
  std::string raw = idx(0x08, {3}, "\x01\x02\x03");
  for (const auto& [name, contents] :
       {std::pair{"nx_idx_test.idx", raw}, std::pair{"nx_idx_test.idx.gz", gzip_stored(raw)}}) {
    std::string path = nx_test::temp_path(name);
    std::ofstream(path, std::ios::binary) << contents;
    EXPECT_EQ(nx::io::load_idx(path).to_vector<int>(), (std::vector<int>{1, 2, 3})) << name;
    std::remove(path.c_str());
    expect_op_error<nx::ValueError>([&] { nx::io::load_idx(path); }, "load_idx", "No such file");
  }
  std::string path = nx_test::temp_path("nx_idx_bad.idx");
  std::ofstream(path, std::ios::binary) << "\x01\x02";
  expect_op_error<nx::ValueError>([&] { nx::io::load_idx(path); }, "load_idx", path + ": too short");
  std::remove(path.c_str());
}

TEST(Idx, RefusesHostileHeaders) {
  expect_refused("", "too short for the 4-byte IDX magic");
  expect_refused(std::string("\x01\x00\x08\x01\x00\x00\x00\x00", 8), "not an IDX file");
  expect_refused(idx(0x0A, {1}, "x"), "unknown element type 0x0A");
  expect_refused(idx(0x08, {}, "x"), "rank 0 is outside 1..8");
  expect_refused(idx(0x08, {1, 1, 1, 1, 1, 1, 1, 1, 1}, "x"), "rank 9 is outside 1..8");
  expect_refused(idx(0x08, {1, 2, 3}, "").substr(0, 11), "the file ends inside the dims");
  std::vector<uint32_t> huge(8, 0xFFFFFFFFu);
  expect_refused(idx(0x08, huge, "x"), "overflow a 64-bit element count");
  expect_refused(idx(0x0E, {0x80000000u, 0x80000000u}, "x"), "need more bytes than can exist");
  // An element count above int64 is refused whatever the axis order, a zero dim included.
  expect_refused(idx(0x08, {0, 0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu}, ""), "overflow a 64-bit element count");
  expect_refused(idx(0x08, {1000000, 1000000}, "0123456789"), "need 1000000000000 bytes of data but the file holds 10");
  expect_refused(idx(0x0C, {2}, "12345678x"), "need 8 bytes of data but the file holds 9");
  expect_refused(idx(0x0C, {2}, "1234567"), "need 8 bytes of data but the file holds 7");
}

TEST(Idx, RefusesHostileGzip) {
  // Dims beyond the 4 GiB cap are refused before anything is inflated.
  expect_refused(gzip_stored(idx(0x08, {100000, 100000}, "x")),
                 "decode to 10000000000 bytes of u8, above the limit of 4294967296 bytes (IdxOpts::max_bytes)");
  // Streams shorter or longer than their dims (a bomb would be the latter).
  expect_refused(gzip_stored(idx(0x08, {1000000000}, "0123456789")), "holds only 10");
  expect_refused(gzip_stored(idx(0x08, {4}, std::string(5000, 'x'))),
                 "need 4 bytes of data but the gzip data holds more");
  std::string gz = gzip_stored(idx(0x08, {4}, "abcd"));
  std::string bad_crc = gz;
  bad_crc[bad_crc.size() - 8] ^= 1;
  expect_refused(bad_crc, "corrupt gzip data");
  expect_refused(gz + "garbage", "7 bytes of trailing garbage after the gzip data");
  for (size_t n = 2; n < gz.size(); ++n) EXPECT_THROW(decode(gz.substr(0, n)), nx::ValueError) << n;
  // Every single-byte corruption of a real deflate stream decodes or throws nx::Error.
  std::ifstream f(std::string(NX_TEST_DATA_DIR) + "/io/idx_i16.idx.gz", std::ios::binary);
  std::string py((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  ASSERT_GT(py.size(), 20u);
  for (size_t i = 0; i < py.size(); ++i) {
    for (unsigned flip : {0x01u, 0x80u, 0xFFu}) {
      std::string bad = py;
      bad[i] = static_cast<char>(static_cast<unsigned char>(bad[i]) ^ flip);
      try {
        decode(bad);
      } catch (const nx::Error&) {
      }
    }
  }
}

TEST(Idx, TheByteLimitCountsWidenedElements) {
  // 1.5 Gi signed bytes are 1.5 GiB in the file but 6 GiB as i32: refused before inflating.
  expect_refused(gzip_stored(idx(0x09, {0x60000000u}, "x")),
                 "dims (1610612736) decode to 6442450944 bytes of i32, above the limit of 4294967296 bytes");
  // A small limit, raw and gzip'd: 100 signed bytes fit under 200 bytes, their i32 form does not.
  std::string i8 = idx(0x09, {100}, std::string(100, '\xff'));
  for (const std::string& file : {i8, gzip_stored(i8)}) {
    expect_op_error<nx::ValueError>([&] { nx::io::decode_idx(bytes_of(file), {.max_bytes = 200}); }, "load_idx",
                                    "dims (100) decode to 400 bytes of i32, above the limit of 200 bytes");
    nx::Tensor t = nx::io::decode_idx(bytes_of(file), {.max_bytes = 400});
    EXPECT_EQ(t.dtype(), nx::i32);
    EXPECT_EQ(t.to_vector<int32_t>(), std::vector<int32_t>(100, -1));
  }
  EXPECT_EQ(nx::io::decode_idx(bytes_of(idx(0x08, {100}, std::string(100, '\1'))), {.max_bytes = 100}).size(), 100);
  // load_idx takes the same options.
  std::string path = nx_test::temp_path("nx_idx_limit.idx");
  std::ofstream(path, std::ios::binary) << i8;
  expect_op_error<nx::ValueError>([&] { nx::io::load_idx(path, {.max_bytes = 399}); }, "load_idx",
                                  path + ": dims (100) decode to 400 bytes");
  std::remove(path.c_str());
}

// ---- Fashion-MNIST ----

const char* kDefaultDir = "/usr/share/datasets/fashion-mnist";

TEST(FashionMnist, LoadsTheInstalledDataSet) {
  const char* env = std::getenv("NX_FASHION_MNIST_DIR");
  // scripts/setup.sh installs the data set, so its absence is a failure, not a skip.
  ASSERT_TRUE((env && *env) || std::filesystem::exists(std::string(kDefaultDir) + "/train-images-idx3-ubyte.gz"))
      << "Fashion-MNIST is not installed (sudo apt-get install dataset-fashion-mnist)";
  nx::io::FashionMnist fm = nx::io::load_fashion_mnist();
  EXPECT_EQ(fm.train_images.dtype(), nx::u8);
  EXPECT_EQ(fm.train_images.shape(), nx::Shape({60000, 28, 28}));
  EXPECT_EQ(fm.train_labels.shape(), nx::Shape({60000}));
  EXPECT_EQ(fm.test_images.shape(), nx::Shape({10000, 28, 28}));
  EXPECT_EQ(fm.test_labels.shape(), nx::Shape({10000}));
  // Ten balanced classes; the first training image is an ankle boot (9).
  for (const auto& [labels, per_class] : {std::pair{fm.train_labels, 6000}, std::pair{fm.test_labels, 1000}}) {
    std::vector<int> count(10);
    for (uint8_t l : labels.to_vector<uint8_t>()) ++count.at(l);
    EXPECT_EQ(count, std::vector<int>(10, per_class));
  }
  EXPECT_EQ(fm.train_labels.to_vector<int>()[0], 9);
  // Pixel sums, as numpy computes them from the same files.
  std::vector<uint8_t> px = fm.train_images.to_vector<uint8_t>();
  EXPECT_EQ(std::accumulate(px.begin(), px.begin() + 784, int64_t{0}), 76247);
  EXPECT_EQ(std::accumulate(px.begin(), px.end(), int64_t{0}), 3431114169);
  px = fm.test_images.to_vector<uint8_t>();
  EXPECT_EQ(std::accumulate(px.begin(), px.end(), int64_t{0}), 573469082);
}

TEST(FashionMnist, SaysHowToInstallIt) {
  for (const char* needle : {"cannot find train-images-idx3-ubyte[.gz] in '/nonexistent/fashion'",
                             "sudo apt-get install dataset-fashion-mnist", "NX_FASHION_MNIST_DIR"})
    expect_op_error<nx::ValueError>([] { nx::io::load_fashion_mnist("/nonexistent/fashion"); },
                                    "load_fashion_mnist", needle);
}

// A fake data set of `n` images per split, written raw (not gzip'd) into a temp directory.
std::string write_fake(const std::string& dir, uint32_t n, uint8_t label, uint32_t width = 28) {
  std::filesystem::create_directories(dir);
  for (const char* split : {"train", "t10k"}) {
    std::ofstream(dir + "/" + split + "-images-idx3-ubyte", std::ios::binary)
        << idx(0x08, {n, 28, width}, std::string(n * 28 * width, '\x05'));
    std::ofstream(dir + "/" + split + "-labels-idx1-ubyte", std::ios::binary)
        << idx(0x08, {n}, std::string(n, static_cast<char>(label)));
  }
  return dir;
}

TEST(FashionMnist, HonoursTheEnvironmentAndChecksTheFiles) {
  std::string dir = write_fake(nx_test::temp_path("nx_fake_fashion"), 3, 4);
  nx::io::FashionMnist fm;
  {
    // The variable is restored however the load ends (a throw left it set for later tests).
    struct Restore {
      std::optional<std::string> old;
      ~Restore() {
        if (old) setenv("NX_FASHION_MNIST_DIR", old->c_str(), 1);
        else unsetenv("NX_FASHION_MNIST_DIR");
      }
    } restore{std::getenv("NX_FASHION_MNIST_DIR") ? std::optional<std::string>(std::getenv("NX_FASHION_MNIST_DIR")) : std::nullopt};
    setenv("NX_FASHION_MNIST_DIR", dir.c_str(), 1);
    fm = nx::io::load_fashion_mnist();
  }
  EXPECT_EQ(fm.train_images.shape(), nx::Shape({3, 28, 28}));
  EXPECT_EQ(fm.test_labels.to_vector<int>(), (std::vector<int>{4, 4, 4}));
  write_fake(dir, 3, 12);
  expect_op_error<nx::ValueError>([&] { nx::io::load_fashion_mnist(dir); }, "load_fashion_mnist",
                                  "holds a label outside 0..9");
  write_fake(dir, 3, 1, 27);
  expect_op_error<nx::ValueError>([&] { nx::io::load_fashion_mnist(dir); }, "load_fashion_mnist",
                                  "holds u8(3, 28, 27), not u8 images of shape (N, 28, 28)");
  std::filesystem::remove_all(dir);
}

}  // namespace
