#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "nx/backend.hpp"
#include "nx/io/safetensors.hpp"
#include "nx/nx.hpp"
#include "test_support.hpp"

namespace {

using nx_test::expect_op_error;
using Bytes = std::vector<std::byte>;

const nx::DType kAllDTypes[] = {nx::boolean, nx::u8, nx::u32, nx::i32, nx::i64, nx::f16, nx::bf16, nx::f32, nx::f64};

Bytes bytes_of(const std::string& s) {
  Bytes b(s.size());
  if (!s.empty()) std::memcpy(b.data(), s.data(), s.size());
  return b;
}

std::string le64(uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[static_cast<size_t>(i)] = static_cast<char>(v >> (8 * i));
  return s;
}

// A safetensors file from a literal header and data section.
Bytes file(const std::string& header, const std::string& data = "") {
  return bytes_of(le64(header.size()) + header + data);
}

// The header of a single F32 tensor "a" of shape [n].
std::string one_f32(const std::string& fields) { return "{\"a\":{" + fields + "}}"; }

void expect_bad(const Bytes& b, const std::string& needle, const char* file = __builtin_FILE()) {
  expect_op_error<nx::ValueError>([&] { nx::io::decode_safetensors(b); }, "decode_safetensors", needle, file);
}

std::string temp_path(const std::string& name) { return ::testing::TempDir() + "/nx_st_" + std::to_string(::getpid()) + "_" + name; }

// Counts as in the npy tests: 0, 1, ... 6, 0, ... converted to t.
nx::Tensor pattern(nx::DType t, const nx::Shape& s) { return nx::as_type(nx::remainder(nx::iota(s), 7), t); }

void expect_same(const nx::Tensor& got, const nx::Tensor& want, const std::string& what) {
  ASSERT_TRUE(got.defined()) << what;
  EXPECT_EQ(got.dtype(), want.dtype()) << what;
  EXPECT_EQ(got.shape(), want.shape()) << what;
  EXPECT_EQ(got.to_vector<double>(), want.to_vector<double>()) << what;
}

nx::io::TensorDict every_dtype_and_rank() {
  nx::io::TensorDict d;
  for (nx::DType t : kAllDTypes)
    for (int rank = 0; rank <= 8; ++rank) {
      nx::Shape s;
      for (int i = 0; i < rank; ++i) s.push_back(i % 3 + 1);
      d[std::string(nx::name(t)) + "_r" + std::to_string(rank)] = pattern(t, s);
    }
  for (nx::DType t : kAllDTypes) d[std::string(nx::name(t)) + "_empty"] = nx::zeros({3, 0, 2}, t);
  return d;
}

void expect_same_dict(const nx::io::TensorDict& got, const nx::io::TensorDict& want) {
  ASSERT_EQ(got.size(), want.size());
  for (const auto& [k, v] : want) {
    auto it = got.find(k);
    ASSERT_NE(it, got.end()) << k;
    expect_same(it->second, v, k);
  }
}

TEST(Safetensors, RoundTripsEveryDTypeAndRankInMemory) {
  auto d = every_dtype_and_rank();
  std::map<std::string, std::string> meta{{"format", "nx"}, {"empty", ""}, {"quote\"\n", "\xe2\x9c\x93"}};
  nx::io::Safetensors r = nx::io::decode_safetensors(nx::io::encode_safetensors(d, meta));
  expect_same_dict(r.tensors, d);
  EXPECT_EQ(r.metadata, meta);
}

TEST(Safetensors, RoundTripsThroughFilesMappedOrRead) {
  auto d = every_dtype_and_rank();
  std::string path = temp_path("roundtrip.safetensors");
  nx::io::save_safetensors(path, d, {{"k", "v"}});
  for (bool mmap : {true, false}) {
    nx::io::Safetensors r = nx::io::load_safetensors(path, {.mmap = mmap});
    expect_same_dict(r.tensors, d);
    EXPECT_EQ(r.metadata, (std::map<std::string, std::string>{{"k", "v"}}));
  }
  std::remove(path.c_str());
  expect_op_error<nx::ValueError>([&] { nx::io::load_safetensors(path); }, "load_safetensors", "cannot read");
}

TEST(Safetensors, NoTensorsAndNoMetadata) {
  Bytes b = nx::io::encode_safetensors({});
  EXPECT_EQ(b.size(), 16u);  // length + "{}" padded to 8
  auto r = nx::io::decode_safetensors(b);
  EXPECT_TRUE(r.tensors.empty());
  EXPECT_TRUE(r.metadata.empty());
}

TEST(Safetensors, WriterPadsTheHeaderAndAlignsEveryTensor) {
  nx::io::TensorDict d{{"z_u8", pattern(nx::u8, {3})},  {"a_f16", pattern(nx::f16, {3})},
                       {"b_f64", pattern(nx::f64, {1})}, {"c_i32", pattern(nx::i32, {5})},
                       {"a_i64", pattern(nx::i64, {2})}, {"bool", pattern(nx::boolean, {1})}};
  Bytes b = nx::io::encode_safetensors(d);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = n << 8 | static_cast<uint64_t>(b[static_cast<size_t>(i)]);
  EXPECT_EQ(n % 8, 0u);
  std::string header(reinterpret_cast<const char*>(b.data() + 8), n);
  EXPECT_EQ(header.find_last_not_of(' '), header.rfind('}')) << "padding is spaces after the JSON";
  // Data order: decreasing element size, then name.
  std::vector<std::string> order = {"a_i64", "b_f64", "c_i32", "a_f16", "bool", "z_u8"};
  size_t last = 0;
  for (const auto& name : order) {
    size_t at = header.find("\"" + name + "\"");
    ASSERT_NE(at, std::string::npos) << name;
    EXPECT_GT(at, last) << name << " out of order in " << header;
    last = at;
  }
  EXPECT_NE(header.find("\"c_i32\":{\"dtype\":\"I32\",\"shape\":[5],\"data_offsets\":[24,44]}"), std::string::npos)
      << header;
  EXPECT_EQ(header.find("__metadata__"), std::string::npos) << "empty metadata is omitted";
}

TEST(Safetensors, MappedLoadsDoNotCopyAndOutliveTheFile) {
  if (!nx::default_backend().host_accessible()) GTEST_SKIP() << "the default backend cannot view host memory";
  std::string path = temp_path("mapped.safetensors");
  nx::io::save_safetensors(path, {{"w", pattern(nx::f32, {64, 64})}, {"b", pattern(nx::f64, {7})}});
  nx::io::TensorDict t = nx::io::load_safetensors(path).tensors;
  std::remove(path.c_str());  // the mapping keeps the data
  for (const auto& [k, v] : t)
    EXPECT_NE(dynamic_cast<nx::ForeignHostBuffer*>(v.buffer().get()), nullptr) << k << " was copied";
  expect_same(t.at("w"), pattern(nx::f32, {64, 64}), "w");
  expect_same(t.at("b"), pattern(nx::f64, {7}), "b");
  nx::Tensor sum = nx::add(t.at("w"), 1);
  EXPECT_EQ(sum.to_vector<float>()[8], 2.f);
}

// ---- files written by the reference implementation ----

std::string golden(const std::string& name) { return std::string(NX_TEST_DATA_DIR) + "/io_safetensors/" + name; }

template <class T>
std::vector<double> count(int n, double scale, double offset) {
  std::vector<double> v;
  for (int i = 0; i < n; ++i) v.push_back(static_cast<double>(static_cast<T>(i * scale + offset)));
  return v;
}

TEST(Safetensors, ReadsFilesWrittenByTheReferenceImplementation) {
  for (bool mmap : {true, false}) {
    nx::io::Safetensors f = nx::io::load_safetensors(golden("reference.safetensors"), {.mmap = mmap});
    EXPECT_EQ(f.metadata, (std::map<std::string, std::string>{{"format", "np"},
                                                              {"note", "h\xc3\xa9llo \"world\"\n\xe2\x9c\x93"}}));
    auto check = [&](const std::string& name, nx::DType t, nx::Shape s, std::vector<double> values) {
      ASSERT_EQ(f.tensors.count(name), 1u) << name;
      const nx::Tensor& x = f.tensors.at(name);
      EXPECT_EQ(x.dtype(), t) << name;
      EXPECT_EQ(x.shape(), s) << name;
      EXPECT_EQ(x.to_vector<double>(), values) << name;
    };
    check("f64", nx::f64, {2, 3}, count<double>(6, 1.5, -2));
    check("f32", nx::f32, {2, 3, 4}, count<double>(24, 0.25, -1));
    check("f16", nx::f16, {5}, count<double>(5, 0.5, 0));
    check("bf16", nx::bf16, {2, 2}, count<double>(4, -1.5, 0));
    check("i64", nx::i64, {6}, count<double>(6, 1e12, -3e12));
    check("i32", nx::i32, {3}, {-70000, 0, 70000});
    check("u32", nx::u32, {3}, {0, 1, 4294967295.0});
    check("u8", nx::u8, {4}, {0, 7, 255, 128});
    check("bool", nx::boolean, {3}, {1, 0, 1});
    check("scalar", nx::f32, {}, {3.5});
    check("empty", nx::f32, {0, 3}, {});
    check("rank8", nx::i32, {1, 2, 1, 2, 1, 2, 1, 1}, count<double>(8, 1, 0));
    check("names.with.dots", nx::f32, {1}, {1});
    check("\xc3\xbcn\xc3\xaf" "c\xc3\xb6" "d\xc3\xa9 \xe2\x9c\x93", nx::f32, {1}, {2});
    check("quote\"back\\slash", nx::f32, {1}, {3});
    EXPECT_EQ(f.tensors.size(), 15u);
  }
}

TEST(Safetensors, RefusesDTypesNxHasNoTypeFor) {
  expect_op_error<nx::ValueError>([] { nx::io::load_safetensors(golden("int8.safetensors")); }, "load_safetensors",
                                  "unsupported dtype \"I8\"");
  expect_op_error<nx::ValueError>([] { nx::io::load_safetensors(golden("u16.safetensors")); }, "load_safetensors",
                                  "unsupported dtype \"U16\"");
  for (std::string dt : {"F8_E4M3", "F8_E5M2", "I16", "U64", "C64", "F4", "f32", ""})
    expect_bad(file(one_f32("\"dtype\":\"" + dt + "\",\"shape\":[1],\"data_offsets\":[0,4]"), "abcd"),
               "unsupported dtype \"" + dt + "\"");
}

// Writes files for `gen_io_safetensors.py --check DIR` (with NX_IO_CHECK_DIR=DIR).
TEST(Safetensors, WritesFilesForTheReferenceReader) {
  const char* env = std::getenv("NX_IO_CHECK_DIR");
  std::string dir = env ? env : ::testing::TempDir();
  std::filesystem::create_directories(dir);
  nx::io::TensorDict d;
  for (nx::DType t : kAllDTypes)
    for (int rank : {0, 1, 3, 8}) {
      nx::Shape s;
      for (int i = 0; i < rank; ++i) s.push_back(i % 3 + 1);
      d[std::string(nx::name(t)) + "_r" + std::to_string(rank)] = pattern(t, s);
    }
  d["empty"] = nx::zeros({2, 0, 3});
  auto file = [&](const std::string& name) { return env ? dir + "/" + name : nx_test::temp_path(name); };
  std::string written = file("nx_written.safetensors"), same = file("nx_same_order.safetensors");
  nx::io::save_safetensors(written, d, {{"format", "np"}, {"note", "h\xc3\xa9llo \"world\"\n\xe2\x9c\x93"}});
  nx::io::save_safetensors(same, {{"d", pattern(nx::f64, {2, 2})}, {"c", pattern(nx::f32, {3})},
                                  {"b", pattern(nx::f16, {2})}, {"a", pattern(nx::u8, {5})}}, {{"a", "b"}});
  expect_same_dict(nx::io::load_safetensors(written).tensors, d);
  if (!env) std::remove(written.c_str()), std::remove(same.c_str());
}

// ---- hostile input ----

TEST(Safetensors, RefusesBadHeaderLengths) {
  expect_bad({}, "too few for the 8-byte header length");
  expect_bad(bytes_of("\x02\x00\x00"), "too few");
  expect_bad(bytes_of(le64(100'000'001) + "{}"), "exceeds the limit of 100000000 bytes");
  expect_bad(bytes_of(le64(~uint64_t{0}) + "{}"), "exceeds the limit");
  expect_bad(bytes_of(le64(3) + "{}"), "runs past the end of the file (2 bytes");
}

TEST(Safetensors, RefusesInvalidJson) {
  const std::pair<std::string, std::string> cases[] = {
      {"", "unexpected end of input"},
      {"   ", "unexpected end of input"},
      {"{", "expected a string key"},
      {"{\"a\":1,}", "expected a string key"},
      {"{'a':1}", "expected a string key"},
      {"{\"a\" 1}", "expected ':'"},
      {"{\"a\":1 \"b\":2}", "expected '}'"},
      {"[1,2", "expected ']'"},
      {"{} {}", "unexpected content after the top-level value"},
      {"{}x", "unexpected content"},
      {"{\"a\":NaN}", "unexpected character"},
      {"{\"a\":tru}", "invalid literal"},
      {"{\"a\":01}", "leading zero"},
      {"{\"a\":1.}", "expected a digit after '.'"},
      {"{\"a\":1e}", "expected a digit in the exponent"},
      {"{\"a\":-}", "expected a digit"},
      {"{\"a\":+1}", "unexpected character"},
      {"{\"a\":1e999}", "number out of range"},
      {"{\"a\":\"x", "unterminated string"},
      {"{\"a\":\"\x01\"}", "unescaped control character"},
      {"{\"a\":\"\\x\"}", "invalid escape"},
      {"{\"a\":\"\\u12g4\"}", "bad hex digit"},
      {"{\"a\":\"\\u12\"}", "bad hex digit"},
      {"{\"a\":\"\\ud800\"}", "high surrogate not followed"},
      {"{\"a\":\"\\ud800\\u0041\"}", "high surrogate not followed by a low surrogate"},
      {"{\"a\":\"\\udc00\"}", "unpaired low surrogate"},
      {"{\"a\":\"\xff\"}", "invalid UTF-8"},
      {"{\"a\":\"\xc0\xaf\"}", "invalid UTF-8"},          // overlong '/'
      {"{\"a\":\"\xed\xa0\x80\"}", "invalid UTF-8"},      // encoded surrogate
      {"{\"a\":\"\xf4\x90\x80\x80\"}", "invalid UTF-8"},  // past U+10FFFF
      {"{\"a\":\"\xe2\x9c\"}", "invalid UTF-8"},          // truncated sequence
      {"{\"a\":1,\"a\":2}", "duplicate key \"a\""},
      {"{\"a\":1,\"\\u0061\":2}", "duplicate key \"a\""},
      {"{\"a\":{\"b\":1,\"b\":1}}", "duplicate key \"b\""},
      {std::string(40, '[') + std::string(40, ']'), "nesting deeper than 16"},
      {std::string(100000, '['), "nesting deeper than"},
  };
  for (const auto& [header, needle] : cases) {
    SCOPED_TRACE(header.substr(0, 60));
    expect_bad(file(header), "the header is invalid JSON: " + needle);
  }
  expect_bad(file("[]"), "the header is not a JSON object");
  expect_bad(file("\"x\""), "not a JSON object");
  expect_bad(file("{\"a\":1}   \n"), "its header entry is not a JSON object");  // trailing whitespace is fine
}

TEST(Safetensors, CapsTheNumberOfJsonValues) {
  std::string many = "{\"a\":[";
  for (int i = 0; i < (1 << 21) + 8; ++i) many += "0,";
  many += "0]}";
  expect_bad(file(many), "more than 2097152 values");
}

TEST(Safetensors, RefusesBadEntries) {
  const std::string data = "abcd";
  const std::pair<std::string, std::string> cases[] = {
      {"\"shape\":[1],\"data_offsets\":[0,4]", "tensor \"a\": no \"dtype\" field"},
      {"\"dtype\":\"F32\",\"data_offsets\":[0,4]", "no \"shape\" field"},
      {"\"dtype\":\"F32\",\"shape\":[1]", "no \"data_offsets\" field"},
      {"\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"strides\":[1]", "unknown field \"strides\""},
      {"\"dtype\":4,\"shape\":[1],\"data_offsets\":[0,4]", "\"dtype\" is not a string"},
      {"\"dtype\":\"F32\",\"shape\":1,\"data_offsets\":[0,4]", "\"shape\" is not an array"},
      {"\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]", "non-negative integers"},
      {"\"dtype\":\"F32\",\"shape\":[1.0],\"data_offsets\":[0,4]", "non-negative integers"},
      {"\"dtype\":\"F32\",\"shape\":[\"1\"],\"data_offsets\":[0,4]", "non-negative integers"},
      {"\"dtype\":\"F32\",\"shape\":[99999999999999999999],\"data_offsets\":[0,4]", "non-negative integers"},
      {"\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]", "rank 9 is above nx's limit of 8"},
      {"\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,4]", "its byte size overflows"},
      {"\"dtype\":\"F32\",\"shape\":[0,4294967296,4294967296],\"data_offsets\":[0,4]", "its byte size overflows"},
      {"\"dtype\":\"F64\",\"shape\":[1152921504606846976],\"data_offsets\":[0,4]", "its byte size overflows"},
      {"\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]", "must be [begin, end]"},
      {"\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]", "must be [begin, end]"},
      {"\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]", "must be [begin, end]"},
      {"\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":{\"0\":4}", "must be [begin, end]"},
      {"\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]", "end before they begin"},
      {"\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]", "need 8 bytes but data_offsets [0, 4] span 4"},
      {"\"dtype\":\"F32\",\"shape\":[1000000000,1000],\"data_offsets\":[0,4]", "need 4000000000000 bytes"},
      {"\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]", "run past the data section's 4 bytes"},
      {"\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[18446744073709551612,18446744073709551616]",
       "must be [begin, end]"},
  };
  for (const auto& [fields, needle] : cases) {
    SCOPED_TRACE(fields);
    expect_bad(file(one_f32(fields), data), needle);
  }
  expect_bad(file("{\"a\":[1]}", data), "tensor \"a\": its header entry is not a JSON object");
}

TEST(Safetensors, RequiresTheRangesToTileTheDataSection) {
  auto entry = [](const std::string& name, int b, int e) {
    return "\"" + name + "\":{\"dtype\":\"U8\",\"shape\":[" + std::to_string(e - b) + "],\"data_offsets\":[" +
           std::to_string(b) + "," + std::to_string(e) + "]}";
  };
  expect_bad(file("{" + entry("a", 0, 2) + "," + entry("b", 3, 4) + "}", "abcd"), "bytes 2 to 3 of the data section belong to no tensor");
  expect_bad(file("{" + entry("a", 1, 4) + "}", "abcd"), "bytes 0 to 1");
  expect_bad(file("{" + entry("a", 0, 3) + "," + entry("b", 2, 4) + "}", "abcd"), "\"a\" and \"b\" overlap");
  expect_bad(file("{" + entry("a", 0, 4) + "," + entry("b", 0, 4) + "}", "abcd"), "overlap");
  expect_bad(file("{" + entry("a", 0, 3) + "}", "abcd"), "cover 3 bytes of a data section of 4 (trailing bytes)");
  expect_bad(file("{}", "x"), "cover 0 bytes of a data section of 1");
  // Out of order in the header and empty tensors anywhere are fine.
  auto r = nx::io::decode_safetensors(
      file("{" + entry("b", 2, 4) + "," + entry("e", 2, 2) + "," + entry("a", 0, 2) + "," + entry("z", 4, 4) + "}", "abcd"));
  EXPECT_EQ(r.tensors.at("b").to_vector<int>(), (std::vector<int>{'c', 'd'}));
  EXPECT_EQ(r.tensors.at("e").size(), 0);
}

TEST(Safetensors, ChecksMetadata) {
  expect_bad(file("{\"__metadata__\":{\"k\":1}}"), "metadata value for key \"k\" is not a string");
  expect_bad(file("{\"__metadata__\":[\"k\"]}"), "\"__metadata__\" is not an object of strings");
  expect_bad(file("{\"__metadata__\":{\"k\":\"v\",\"k\":\"w\"}}"), "duplicate key \"k\"");
  EXPECT_TRUE(nx::io::decode_safetensors(file("{\"__metadata__\":null}")).metadata.empty());
  auto m = nx::io::decode_safetensors(file("{\"__metadata__\":{\"\\u00e9\\ud83d\\ude00\":\"\\n\\\"\\/\"}}")).metadata;
  EXPECT_EQ(m, (std::map<std::string, std::string>{{"\xc3\xa9\xf0\x9f\x98\x80", "\n\"/"}}));
}

TEST(Safetensors, NormalisesBoolBytes) {
  auto r = nx::io::decode_safetensors(
      file(one_f32("\"dtype\":\"BOOL\",\"shape\":[4],\"data_offsets\":[0,4]"), std::string("\x00\x01\x02\xff", 4)));
  EXPECT_EQ(r.tensors.at("a").to_vector<int>(), (std::vector<int>{0, 1, 1, 1}));
}

TEST(Safetensors, NamesLongUntrustedTextShortly) {
  std::string name(5000, 'n');
  try {
    nx::io::decode_safetensors(file("{\"" + name + "\":1}"));
    ADD_FAILURE() << "no error";
  } catch (const nx::ValueError& e) {
    EXPECT_LT(std::string(e.what()).size(), 400u) << e.what();
    EXPECT_NE(std::string(e.what()).find("nnn\"..."), std::string::npos) << e.what();
  }
}

// Every prefix of a valid file and random corruptions: an nx::Error or a valid result, never a crash.
TEST(Safetensors, SurvivesTruncationAndCorruption) {
  nx::io::TensorDict d{{"w", pattern(nx::f32, {3, 4})}, {"b", pattern(nx::i64, {2})}, {"m", pattern(nx::boolean, {5})}};
  Bytes good = nx::io::encode_safetensors(d, {{"k", "v"}});
  for (size_t n = 0; n < good.size(); ++n) {
    Bytes cut(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_THROW(nx::io::decode_safetensors(cut), nx::ValueError) << "prefix of " << n << " bytes";
  }
  std::mt19937 rng(1234);
  int errors = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    Bytes b = good;
    int flips = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < flips; ++k) b[rng() % b.size()] = std::byte{static_cast<unsigned char>(rng())};
    try {
      auto r = nx::io::decode_safetensors(b);
      for (auto& [k, v] : r.tensors) (void)v.to_vector<double>();
    } catch (const nx::Error&) {
      ++errors;
    }
  }
  EXPECT_GT(errors, 100);
}

TEST(Safetensors, WriterRefusesWhatItCannotWrite) {
  expect_op_error<nx::ValueError>([] { nx::io::encode_safetensors({{"x", nx::Tensor()}}); }, "save_safetensors",
                                  "tensor \"x\" is undefined");
  expect_op_error<nx::ValueError>([] { nx::io::encode_safetensors({{"__metadata__", nx::zeros({1})}}); },
                                  "save_safetensors", "may not be named \"__metadata__\"");
  expect_op_error<nx::ValueError>([] { nx::io::encode_safetensors({{"bad\xff", nx::zeros({1})}}); },
                                  "save_safetensors", "is not valid UTF-8");
  expect_op_error<nx::ValueError>([] { nx::io::encode_safetensors({}, {{"k", "\xc0\x80"}}); }, "save_safetensors",
                                  "metadata entry \"k\" is not valid UTF-8");
  auto traced = nx::jit([](const nx::Tensor& x) {
    nx::io::encode_safetensors({{"x", x}});
    return x;
  });
  expect_op_error<nx::ValueError>([&] { traced(nx::zeros({2})); }, "save_safetensors", "traced");
}

TEST(Safetensors, FailedSavesLeaveNothingBehind) {
  std::string dir = temp_path("dir");
  std::filesystem::create_directories(dir + "/target");
  // Renaming over a directory fails after the data was written.
  expect_op_error<nx::ValueError>([&] { nx::io::save_safetensors(dir + "/target", {{"a", nx::zeros({4})}}); },
                                  "save_safetensors", "rename");
  expect_op_error<nx::ValueError>([&] { nx::io::save_safetensors(dir + "/missing/x.safetensors", {}); },
                                  "save_safetensors", "cannot create a temporary file");
  int entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) entries += e.path().filename() != "target";
  EXPECT_EQ(entries, 0);
  expect_op_error<nx::ValueError>([&] { nx::io::load_safetensors(dir + "/target"); }, "load_safetensors",
                                  "not a regular file");
  std::filesystem::remove_all(dir);
}

TEST(Safetensors, LoadErrorsNameTheFile) {
  std::string path = temp_path("bad.safetensors");
  std::ofstream(path, std::ios::binary) << "short";
  expect_op_error<nx::ValueError>([&] { nx::io::load_safetensors(path); }, "load_safetensors",
                                  path + "': the file has 5 bytes");
  std::ofstream(path, std::ios::binary | std::ios::trunc);
  expect_op_error<nx::ValueError>([&] { nx::io::load_safetensors(path, {.mmap = false}); }, "load_safetensors",
                                  "the file has 0 bytes");
  std::remove(path.c_str());
}

}  // namespace
