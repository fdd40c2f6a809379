// .npz: round trips, numpy interop (files in golden/io from gen_io_npz_idx.py) and hostile archives.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <numbers>
#include <optional>

#include "nx/io/npz.hpp"
#include "nx/nx.hpp"
#include "test_support.hpp"

namespace {

using nx::io::TensorDict;
using nx_test::expect_op_error;

std::vector<std::byte> bytes_of(const std::string& s) {
  std::vector<std::byte> b(s.size());
  if (!s.empty()) std::memcpy(b.data(), s.data(), s.size());
  return b;
}
std::string string_of(const std::vector<std::byte>& b) {
  return b.empty() ? std::string() : std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

void expect_same(const nx::Tensor& got, const nx::Tensor& want, const std::string& what) {
  ASSERT_EQ(got.dtype(), want.dtype()) << what;
  ASSERT_EQ(got.shape(), want.shape()) << what;
  EXPECT_EQ(got.to_vector<double>(), want.to_vector<double>()) << what;
}
void expect_same(const TensorDict& got, const TensorDict& want) {
  ASSERT_EQ(got.size(), want.size());
  for (const auto& [name, t] : want) {
    ASSERT_TRUE(got.count(name)) << "missing " << name;
    expect_same(got.at(name), t, name);
  }
}

// The arrays of expected() in gen_io_npz_idx.py.
TensorDict interop_arrays() {
  return {
      {"a", nx::reshape(nx::iota({6}, nx::f32), {2, 3})},
      {"b", nx::as_type(nx::tensor({1, 0, 1}), nx::boolean)},
      {"c", nx::tensor<int64_t>({-1, int64_t{1} << 40, 3})},
      {"d", nx::tensor({1.5, -2.0}, nx::bf16)},
      {"e", nx::scalar(7, nx::u8)},
      {"f", nx::zeros({0, 3}, nx::f16)},
      {"g", nx::reshape(nx::iota({6}, nx::i32), {2, 3})},
      {"h", nx::from_vector<uint32_t>({4000000000u}, {1})},
      {"i", nx::tensor({std::numbers::pi, -std::numeric_limits<double>::infinity()}, nx::f64)},
      {"layer1/weight", nx::tensor({{1.0, 2.0}, {3.0, 4.0}})},
      {"na\xc3\xafve", nx::tensor({0.5}, nx::f16)},
  };
}

TEST(Npz, RoundTripsEveryDTypeAndRank) {
  TensorDict arrays;
  for (nx::DType t : {nx::boolean, nx::u8, nx::u32, nx::i32, nx::i64, nx::f16, nx::bf16, nx::f32, nx::f64}) {
    for (int rank = 0; rank <= 8; ++rank) {
      nx::Shape s;
      for (int i = 0; i < rank; ++i) s.push_back(i % 3 + 1);
      arrays[std::string(nx::name(t)) + "_rank" + std::to_string(rank)] = nx::as_type(nx::remainder(nx::iota(s), 7), t);
    }
    arrays[std::string(nx::name(t)) + "_empty"] = nx::zeros({3, 0, 2}, t);
  }
  for (bool compress : {false, true}) {
    std::vector<std::byte> zip = nx::io::encode_npz(arrays, {.compress = compress});
    expect_same(nx::io::decode_npz(zip), arrays);
  }
  // Deflate pays off on redundant data.
  TensorDict zeros{{"z", nx::zeros({256, 256})}};
  EXPECT_LT(nx::io::encode_npz(zeros, {.compress = true}).size() * 20, nx::io::encode_npz(zeros).size());
}

TEST(Npz, NamesBecomeNpyMembers) {
  TensorDict arrays = interop_arrays();
  std::string zip = string_of(nx::io::encode_npz(arrays));
  EXPECT_NE(zip.find("layer1/weight.npy"), std::string::npos);
  EXPECT_NE(zip.find("na\xc3\xafve.npy"), std::string::npos);
  expect_same(nx::io::decode_npz(bytes_of(zip)), arrays);
  // An empty dict is an empty archive: just the 22-byte end record.
  EXPECT_EQ(nx::io::encode_npz({}).size(), 22u);
  EXPECT_TRUE(nx::io::decode_npz(nx::io::encode_npz({})).empty());
  // The output does not depend on the clock.
  EXPECT_EQ(nx::io::encode_npz(arrays, {.compress = true}), nx::io::encode_npz(arrays, {.compress = true}));
}

TEST(Npz, FileRoundTripAndErrors) {
  std::string path = nx_test::temp_path("nx_npz_test.npz");
  TensorDict arrays = interop_arrays();
  nx::io::save_npz(path, arrays, {.compress = true});
  expect_same(nx::io::load_npz(path), arrays);
  std::remove(path.c_str());
  expect_op_error<nx::ValueError>([&] { nx::io::load_npz(path); }, "load_npz", "No such file");
  expect_op_error<nx::ValueError>([&] { nx::io::save_npz("/nonexistent-dir/x.npz", arrays); }, "save_npz",
                                  "cannot create");
  expect_op_error<nx::ValueError>([&] { nx::io::encode_npz({{"x", nx::Tensor()}}); }, "save_npz",
                                  "array 'x': the tensor is undefined");
}

TEST(Npz, ReadsNumpyFiles) {
  // numpy.savez, savez_compressed, and savez with zip64 records; members "c" (big-endian) and
  // "g" (Fortran order) use layouts nx does not write.
  for (const char* file : {"numpy_savez.npz", "numpy_savez_compressed.npz", "numpy_zip64.npz"}) {
    SCOPED_TRACE(file);
    expect_same(nx::io::load_npz(std::string(NX_TEST_DATA_DIR) + "/io/" + file), interop_arrays());
  }
}

TEST(Npz, WritesFilesNumpyReads) {
  // With NX_IO_CHECK_DIR set, leaves files for `gen_io_npz_idx.py --check DIR`.
  const char* dir = std::getenv("NX_IO_CHECK_DIR");
  for (bool compress : {false, true}) {
    std::string name = compress ? "nx_compressed.npz" : "nx_stored.npz";
    std::string path = dir && *dir ? std::string(dir) + "/" + name : nx_test::temp_path(name);
    nx::io::save_npz(path, interop_arrays(), {.compress = compress});
    expect_same(nx::io::load_npz(path), interop_arrays());
    if (!(dir && *dir)) std::remove(path.c_str());
  }
}

// ---- hostile archives ----

using nx_test::crc32;
void put(std::string& s, uint64_t v, int n) {  // n little-endian bytes; past 8 they are zero
  for (int i = 0; i < n; ++i) s += static_cast<char>(i < 8 ? (v >> (8 * i)) & 0xff : 0);
}
uint64_t get(const std::string& s, size_t at, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v |= static_cast<uint64_t>(static_cast<unsigned char>(s[at + i])) << (8 * i);
  return v;
}
void patch(std::string& s, size_t at, uint64_t v, int n) {
  std::string b;
  put(b, v, n);
  s.replace(at, n, b);
}
std::string npy_of(const nx::Tensor& t) { return string_of(nx::io::encode_npy(t)); }

// A hand-made archive whose declared fields can lie.
struct Member {
  std::string name, data;
  uint16_t method = 0, flags = 0;
  std::optional<uint64_t> size, csize, offset;
  std::optional<std::string> local_name;
  std::optional<uint32_t> crc;  // default: the data's
  bool zip64 = false;  // sizes and offset saturated, their values in a zip64 extra
};
struct End {
  std::optional<uint64_t> count, cd_offset;
  uint16_t disk = 0;
};
std::string craft_zip(const std::vector<Member>& ms, End end = {}) {
  std::string out;
  std::vector<uint64_t> offsets;
  for (const Member& m : ms) {
    offsets.push_back(out.size());
    std::string ln = m.local_name.value_or(m.name);
    put(out, 0x04034b50, 4);
    put(out, 20, 2);
    put(out, m.flags, 2);
    put(out, m.method, 2);
    put(out, 0, 4);
    put(out, m.crc ? *m.crc : crc32(m.data), 4);
    put(out, m.data.size(), 4);
    put(out, m.data.size(), 4);
    put(out, ln.size(), 2);
    put(out, 0, 2);
    out += ln + m.data;
  }
  uint64_t cd = out.size();
  for (size_t i = 0; i < ms.size(); ++i) {
    const Member& m = ms[i];
    uint64_t size = m.size.value_or(m.data.size()), csize = m.csize.value_or(m.data.size());
    uint64_t offset = m.offset.value_or(offsets[i]);
    std::string extra;
    if (m.zip64) {
      put(extra, 1, 2);
      put(extra, 24, 2);
      put(extra, size, 8);
      put(extra, csize, 8);
      put(extra, offset, 8);
    }
    put(out, 0x02014b50, 4);
    put(out, 20, 2);
    put(out, 20, 2);
    put(out, m.flags, 2);
    put(out, m.method, 2);
    put(out, 0, 4);
    put(out, m.crc ? *m.crc : crc32(m.data), 4);
    put(out, m.zip64 ? 0xFFFFFFFF : csize, 4);
    put(out, m.zip64 ? 0xFFFFFFFF : size, 4);
    put(out, m.name.size(), 2);
    put(out, extra.size(), 2);
    put(out, 0, 10);
    put(out, m.zip64 ? 0xFFFFFFFF : offset, 4);
    out += m.name + extra;
  }
  uint64_t count = end.count.value_or(ms.size());
  put(out, 0x06054b50, 4);
  put(out, end.disk, 2);
  put(out, 0, 2);
  put(out, count, 2);
  put(out, count, 2);
  put(out, out.size() - 12 - cd, 4);
  put(out, end.cd_offset.value_or(cd), 4);
  put(out, 0, 2);
  return out;
}

void expect_refused(const std::string& zip, const std::string& needle, const char* file = __builtin_FILE()) {
  expect_op_error<nx::ValueError>([&] { nx::io::decode_npz(bytes_of(zip)); }, "load_npz", needle, file);
}

// Offset of the first central directory entry of an archive we wrote.
size_t central(const std::string& zip) { return get(zip, zip.size() - 6, 4); }

TEST(Npz, CraftedArchivesAreRead) {
  // The test's own builder agrees with the reader, so the refusals below are about one field.
  nx::Tensor x = nx::tensor({1.0, 2.0});
  std::string zip =
      craft_zip({{.name = "x.npy", .data = npy_of(x)}, {.name = "y.npy", .data = npy_of(x), .zip64 = true}});
  TensorDict got = nx::io::decode_npz(bytes_of(zip));
  expect_same(got.at("x"), x, "x");
  expect_same(got.at("y"), x, "y");
}

TEST(Npz, RefusesWhatIsNotAZip) {
  expect_refused("", "not a zip archive");
  expect_refused("hello", "not a zip archive");
  expect_refused(std::string(100, '\0'), "not a zip archive");
  std::string zip = string_of(nx::io::encode_npz(interop_arrays()));
  expect_refused(zip + "trailing", "no end-of-central-directory record");
}

TEST(Npz, RefusesEveryTruncation) {
  for (bool compress : {false, true}) {
    std::string zip = string_of(nx::io::encode_npz(interop_arrays(), {.compress = compress}));
    for (size_t n = 0; n < zip.size(); ++n)
      EXPECT_THROW(nx::io::decode_npz(bytes_of(zip.substr(0, n))), nx::ValueError) << n << " of " << zip.size();
  }
}

TEST(Npz, CorruptedBytesNeverCrash) {
  // Every single-byte corruption either decodes or throws nx::Error (ASan/UBSan builds make
  // this a memory-safety check of every parser path).
  TensorDict arrays{{"a", nx::tensor({{1.0, 2.0}, {3.0, 4.0}})}, {"b", nx::tensor({7, 8}, nx::u8)}};
  for (bool compress : {false, true}) {
    std::string zip = string_of(nx::io::encode_npz(arrays, {.compress = compress}));
    int refused = 0;
    for (size_t i = 0; i < zip.size(); ++i) {
      for (unsigned flip : {0x01u, 0x80u, 0xFFu}) {
        std::string bad = zip;
        bad[i] = static_cast<char>(static_cast<unsigned char>(bad[i]) ^ flip);
        try {
          nx::io::decode_npz(bytes_of(bad));
        } catch (const nx::Error&) {
          ++refused;
        }
      }
    }
    EXPECT_GT(refused, static_cast<int>(zip.size()));  // data bytes are guarded by CRC-32
  }
}

TEST(Npz, RefusesMembersThatAreNotNpy) {
  std::string zip = string_of(nx::io::encode_npz({{"a", nx::tensor({1.0})}}));
  for (size_t at; (at = zip.find("a.npy")) != std::string::npos;) zip.replace(at, 5, "a.txt");
  expect_refused(zip, "member 'a.txt' is not a .npy file");
  expect_refused(craft_zip({{.name = "x.npy", .data = "not an npy file"}}),
                 "member 'x.npy': not a .npy file (bad magic)");
  std::string npy = npy_of(nx::tensor({1.0, 2.0}));
  expect_refused(craft_zip({{.name = "x.npy", .data = npy.substr(0, npy.size() - 1)}}),
                 "member 'x.npy': shape (2) needs 2 items");
}

TEST(Npz, RefusesDuplicateEncryptedAndUnknownMembers) {
  std::string npy = npy_of(nx::tensor({1.0}));
  expect_refused(craft_zip({{.name = "a.npy", .data = npy}, {.name = "a.npy", .data = npy}}),
                 "duplicate entry 'a.npy'");
  expect_refused(craft_zip({{.name = "a.npy", .data = npy, .flags = 1}}), "entry 'a.npy' is encrypted");
  expect_refused(craft_zip({{.name = "a.npy", .data = npy, .method = 12}}),
                 "compression method 12 (only stored and deflate");
  expect_refused(craft_zip({{.name = "a.npy", .data = npy, .size = 5}}), "is stored but declares 5 bytes");
  expect_refused(craft_zip({{.name = "a.npy", .data = npy, .local_name = "b.npy"}}),
                 "local header of entry 'a.npy' names a different file");
  expect_refused(craft_zip({{.name = "a.npy", .data = npy}}, {.disk = 1}), "multi-disk");
}

TEST(Npz, RefusesOutOfRangeOffsetsAndSizes) {
  std::string npy = npy_of(nx::tensor({1.0}));
  expect_refused(craft_zip({{.name = "a.npy", .data = npy}}, {.count = 1000}),
                 "declares 1000 entries but has room for at most 1");
  expect_refused(craft_zip({{.name = "a.npy", .data = npy}}, {.cd_offset = 1u << 30}),
                 "central directory (offset 1073741824");
  expect_refused(craft_zip({{.name = "a.npy", .data = npy, .offset = 1u << 30}}),
                 "local header of entry 'a.npy' lies outside");
  expect_refused(craft_zip({{.name = "a.npy", .data = npy, .size = 1ull << 40, .csize = 1ull << 40, .zip64 = true}}),
                 "data of entry 'a.npy' lies outside");
  expect_refused(
      craft_zip({{.name = "a.npy", .data = npy, .size = ~0ull, .csize = ~0ull, .offset = ~0ull, .zip64 = true}}),
      "lies outside");
  // Two directory entries sharing one member's bytes: the overlapping-file zip bomb.
  expect_refused(craft_zip({{.name = "a.npy", .data = npy}, {.name = "b.npy", .data = npy, .offset = 0}}),
                 "overlaps another member");
}

TEST(Npz, InflatesLargeMembersExactly) {
  // Several MB over many deflate blocks, part compressible and part not.
  nx::Tensor noise = nx::as_type(nx::remainder(nx::multiply(nx::iota({1 << 20}, nx::i64), nx::scalar(2654435761LL, nx::i64)),
                                               nx::scalar(1000003LL, nx::i64)), nx::f32);
  nx::io::TensorDict arrays{{"noise", noise}, {"zeros", nx::zeros({3, 1 << 18})}, {"empty", nx::zeros({0})}};
  nx::io::TensorDict back = nx::io::decode_npz(nx::io::encode_npz(arrays, {.compress = true}));
  ASSERT_EQ(back.size(), 3u);
  EXPECT_EQ(back.at("noise").to_vector<float>(), noise.to_vector<float>());
  EXPECT_EQ(back.at("zeros").shape(), nx::Shape({3, 1 << 18}));
  EXPECT_EQ(back.at("empty").size(), 0);
}

TEST(Npz, RefusesBadCompressedData) {
  std::string zip = string_of(nx::io::encode_npz({{"a", nx::zeros({1000})}}, {.compress = true}));
  size_t cd = central(zip);
  uint64_t csize = get(zip, cd + 20, 4), size = get(zip, cd + 24, 4);
  std::string more = zip, fewer = zip, bomb = zip, truncated = zip, corrupt = zip;
  patch(more, cd + 24, size - 1, 4);
  expect_refused(more, "entry 'a.npy': the data inflates to more than the declared " + std::to_string(size - 1));
  patch(fewer, cd + 24, size + 1, 4);
  expect_refused(fewer, "inflates to " + std::to_string(size) + " bytes, not the declared " + std::to_string(size + 1));
  patch(bomb, cd + 24, 0x7FFFFFFF, 4);
  expect_refused(bomb, "more than deflate can produce (a decompression bomb?)");
  patch(truncated, cd + 20, csize / 2, 4);
  expect_refused(truncated, "corrupt or truncated deflate data");
  corrupt[get(zip, cd + 42, 4) + 30 + 5] = static_cast<char>(0xFF);  // first byte of the deflate stream
  expect_refused(corrupt, "corrupt or truncated deflate data");
  // Stored bytes that do not match their CRC-32.
  std::string stored = string_of(nx::io::encode_npz({{"a", nx::zeros({4})}}));
  stored[central(stored) - 1] = 1;
  expect_refused(stored, "CRC-32 mismatch in entry 'a.npy'");
}

TEST(Npz, RefusesDecompressionBombsBeyondTheTotalCap) {
  // Each member declares 17 GiB from 17 MiB (within deflate's 1032:1), together over 32 GiB.
  std::string body(17u << 20, '\0');
  uint64_t declared = uint64_t{17} << 30;
  expect_refused(craft_zip({{.name = "a.npy", .data = body, .method = 8, .size = declared, .crc = 0, .zip64 = true},
                            {.name = "b.npy", .data = body, .method = 8, .size = declared, .crc = 0, .zip64 = true}}),
                 "more than 32 GiB of data in total");
}

}  // namespace
