#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>

#include "nx/nx.hpp"
#include "test_support.hpp"

namespace {

TEST(Npy, RoundTripsEveryDTypeAndRank) {
  for (nx::DType t : {nx::boolean, nx::u8, nx::u32, nx::i32, nx::i64, nx::f16, nx::bf16, nx::f32, nx::f64}) {
    for (int rank = 0; rank <= 8; ++rank) {
      nx::Shape s;
      for (int i = 0; i < rank; ++i) s.push_back(i % 3 + 1);
      nx::Tensor x = nx::as_type(nx::remainder(nx::iota(s), 7), t);
      nx::Tensor y = nx::io::decode_npy(nx::io::encode_npy(x));
      ASSERT_EQ(y.dtype(), t);
      ASSERT_EQ(y.shape(), s);
      EXPECT_EQ(y.to_vector<double>(), x.to_vector<double>()) << nx::name(t) << " rank " << rank;
    }
  }
  nx::Tensor empty = nx::zeros({3, 0, 2});
  EXPECT_EQ(nx::io::decode_npy(nx::io::encode_npy(empty)).shape(), empty.shape());
}

TEST(Npy, FileRoundTrip) {
  std::string path = nx_test::temp_path("nx_npy_test.npy");
  nx::Tensor x = nx::tensor({{1.5, -2.0}, {3.0, 4.25}});
  nx::io::save_npy(path, x);
  EXPECT_EQ(nx::io::load_npy(path).to_vector<float>(), x.to_vector<float>());
  std::remove(path.c_str());
  EXPECT_THROW(nx::io::load_npy(path), nx::ValueError);
}

TEST(Npy, SavingKeepsTheFileModeAndSymlinks) {
  namespace fs = std::filesystem;
  std::string dir = ::testing::TempDir() + "/nx_npy_mode_" + std::to_string(::getpid());
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::string path = dir + "/x.npy";
  nx::io::save_npy(path, nx::zeros({2}));
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);  // 0640
  fs::create_symlink("x.npy", dir + "/link.npy");
  nx::io::save_npy(dir + "/link.npy", nx::ones({3}));
  EXPECT_TRUE(fs::is_symlink(dir + "/link.npy"));
  EXPECT_EQ(nx::io::load_npy(path).size(), 3);
  EXPECT_EQ(fs::status(path).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 2);
  fs::remove_all(dir);
}

std::vector<std::byte> bytes_of(const std::string& s) {
  std::vector<std::byte> b(s.size());
  if (!s.empty()) std::memcpy(b.data(), s.data(), s.size());
  return b;
}

std::string npy(const std::string& header, const std::string& data) {
  std::string h = header;
  while ((10 + h.size() + 1) % 64) h += ' ';
  h += '\n';
  std::string out = std::string("\x93NUMPY\x01\x00", 8);
  out += static_cast<char>(h.size() & 0xff);
  out += static_cast<char>(h.size() >> 8);
  return out + h + data;
}

TEST(Npy, ReadsFortranOrderAndBigEndian) {
  std::string d;
  for (int v : {1, 4, 2, 5, 3, 6}) d += std::string(reinterpret_cast<const char*>(&v), 4);
  auto f = nx::io::decode_npy(bytes_of(npy("{'descr': '<i4', 'fortran_order': True, 'shape': (2, 3), }", d)));
  EXPECT_EQ(f.to_vector<int32_t>(), (std::vector<int32_t>{1, 2, 3, 4, 5, 6}));
  std::string be("\x00\x00\x00\x07", 4);
  auto b = nx::io::decode_npy(bytes_of(npy("{'descr': '>i4', 'fortran_order': False, 'shape': (1,), }", be)));
  EXPECT_EQ(b.item<int32_t>(), 7);
}

TEST(Npy, RejectsHostileFiles) {
  auto bad = [](const std::string& file) {
    EXPECT_THROW(nx::io::decode_npy(bytes_of(file)), nx::ValueError) << file;
  };
  bad("");
  bad("NUMPY");
  bad(npy("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", "12345678"));
  bad(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000,), }", "1234"));
  bad(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4), }", "1234"));
  bad(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", "1234"));
  bad(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1, 1, 1, 1, 1, 1, 1), }", "1234"));
  bad(npy("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (1,), }", "1234"));
  bad(npy("{'descr': '<f4', 'shape': (1,), }", "1234"));
  bad(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", "1234"));
  bad(npy("{'descr': '<f4'", ""));
  std::string truncated = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", "1234");
  bad(truncated.substr(0, 30));
}

TEST(Npy, HeaderMustBeOneBalancedDictLiteral) {
  std::string data(24, '\0');  // a (2, 3) f32 array
  auto refused = [&](const std::string& header, const std::string& needle) {
    nx_test::expect_op_error<nx::ValueError>([&] { nx::io::decode_npy(bytes_of(npy(header, data))); }, "load_npy",
                                             needle);
  };
  // numpy's safe literal parser refuses all of these.
  refused("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), ", "the header ends before the closing '}'");
  refused("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)", "the header ends before the closing '}'");
  refused("'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", "expected '{'");
  refused("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }}", "text after the closing '}'");
  refused("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } {}", "text after the closing '}'");
  refused("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, }", "expected a non-negative integer");
  refused("{'descr': '<f4', 'fortran_order': False, 'shape': (6), }", "not a tuple");
  refused("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'extra': 1, }", "unknown key 'extra'");
  refused("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", "duplicate or unknown key 'descr'");
  refused("{'descr': '<f4, 'fortran_order': False, 'shape': (2, 3), }", "expected ',' or '}'");
  refused("{'descr': '<f4', 'fortran_order': false, 'shape': (2, 3), }", "expected True or False");
  refused("{'descr': '<f4', 'fortran_order': False, 'shape': (02, 3), }", "leading zeros");
  refused("{'descr': '<f4' 'fortran_order': False, 'shape': (2, 3), }", "expected ',' or '}'");
  // What numpy itself writes and accepts: either quote, no trailing comma, spaces and newlines.
  for (const char* ok : {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
                         "{\"descr\":\"<f4\",\"fortran_order\":False,\"shape\":(2,3)}",
                         " {'shape': ( 2 , 3 , ) ,\n 'fortran_order': False, 'descr': '<f4'}\n\n"}) {
    nx::Tensor t = nx::io::decode_npy(bytes_of(npy(ok, data)));
    EXPECT_EQ(t.shape(), nx::Shape({2, 3})) << ok;
  }
  EXPECT_EQ(nx::io::decode_npy(bytes_of(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", "1234"))).rank(), 0);
  // The file in the malformed corpus.
  std::ifstream f(std::string(NX_TEST_DATA_DIR) + "/malformed/npy/unbalanced_braces", std::ios::binary);
  std::string file((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  ASSERT_FALSE(file.empty());
  EXPECT_THROW(nx::io::decode_npy(bytes_of(file)), nx::ValueError);
}

TEST(Npy, OverflowingShapesAreRefusedInAnyAxisOrder) {
  // 1e18 * 1e18 overflows int64 whether or not a zero dim comes first.
  for (const char* shape : {"(0, 1000000000000000000, 1000000000000000000)",
                            "(1000000000000000000, 1000000000000000000, 0)",
                            "(1000000000000000000, 0, 1000000000000000000)"}) {
    std::string header = std::string("{'descr': '<f4', 'fortran_order': False, 'shape': ") + shape + ", }";
    nx_test::expect_op_error<nx::ValueError>([&] { nx::io::decode_npy(bytes_of(npy(header, ""))); }, "load_npy",
                                             "overflows");
    header = std::string("{'descr': '<f4', 'fortran_order': True, 'shape': ") + shape + ", }";
    EXPECT_THROW(nx::io::decode_npy(bytes_of(npy(header, ""))), nx::ValueError) << shape;
  }
  // Large but valid empty shapes still load, in C and Fortran order.
  for (const char* order : {"False", "True"}) {
    std::string header = std::string("{'descr': '<f4', 'fortran_order': ") + order +
                         ", 'shape': (0, 3037000499, 3037000499), }";
    nx::Tensor t = nx::io::decode_npy(bytes_of(npy(header, "")));
    EXPECT_EQ(t.shape(), nx::Shape({0, 3037000499, 3037000499})) << order;
    EXPECT_EQ(nx::transpose(t).shape(), nx::Shape({3037000499, 3037000499, 0}));
  }
}

// Shape's own errors carry no caller line (it has no Where), so only the message is checked.
template <class F> void expect_shape_overflow(F&& f) {
  try {
    f();
    ADD_FAILURE() << "no exception";
  } catch (const nx::ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("[shape] element count of"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("overflows int64"), std::string::npos) << e.what();
  }
}

TEST(Shape, RefusesOverflowInAnyAxisOrder) {
  const int64_t big = 1'000'000'000'000'000'000;
  for (std::vector<int64_t> dims : {std::vector<int64_t>{0, big, big}, {big, big, 0}, {big, 0, big}}) {
    expect_shape_overflow([&] { nx::Shape{dims}; });
    nx::Shape s{0};
    s.push_back(big);
    expect_shape_overflow([&] { s.push_back(big); });
    EXPECT_EQ(s, nx::Shape({0, big})) << "a refused push_back leaves the shape as it was";
  }
  EXPECT_EQ(nx::checked_element_count(std::vector<int64_t>{0, big, big}), std::nullopt);
  EXPECT_EQ(nx::checked_element_count(std::vector<int64_t>{big, 0, 9}), 0);
  EXPECT_EQ(nx::checked_element_count(std::vector<int64_t>{}), 1);
  EXPECT_EQ(nx::Shape({3037000499, 3037000499, 0}).size(), 0);
  // strides() are all representable for an accepted shape, and checked when dims are edited.
  nx::Shape z{big, 0, 9};
  EXPECT_EQ(z.strides()[0], 0);
  EXPECT_EQ(z.strides()[1], 9);
  z[1] = big;
  expect_shape_overflow([&] { z.strides(); });
  expect_shape_overflow([&] { (void)z.size(); });
}

}  // namespace
