#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>

#include "nx/nx.hpp"

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
  std::string path = ::testing::TempDir() + "/nx_npy_test.npy";
  nx::Tensor x = nx::tensor({{1.5, -2.0}, {3.0, 4.25}});
  nx::io::save_npy(path, x);
  EXPECT_EQ(nx::io::load_npy(path).to_vector<float>(), x.to_vector<float>());
  std::remove(path.c_str());
  EXPECT_THROW(nx::io::load_npy(path), nx::ValueError);
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

}  // namespace
