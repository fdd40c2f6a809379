// Every file under tests/golden/malformed/<format>/ (made by gen_malformed.py, plus inputs
// the fuzzers once found) must be refused with an nx::Error naming the reader: never a
// crash, never a silent success.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "nx/io/checkpoint.hpp"
#include "nx/io/csv.hpp"
#include "nx/io/idx.hpp"
#include "nx/io/npz.hpp"
#include "nx/io/safetensors.hpp"
#include "nx/nx.hpp"

namespace {

namespace fs = std::filesystem;
using Bytes = std::span<const std::byte>;

std::vector<std::byte> read(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::vector<char> c((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  return {reinterpret_cast<const std::byte*>(c.data()), reinterpret_cast<const std::byte*>(c.data()) + c.size()};
}

const std::map<std::string, std::function<void(Bytes)>>& readers() {
  static const std::map<std::string, std::function<void(Bytes)>> r = {
      {"npy", [](Bytes b) { nx::io::decode_npy(b); }},
      {"npz", [](Bytes b) { nx::io::decode_npz(b); }},
      {"safetensors", [](Bytes b) { nx::io::decode_safetensors(b); }},
      {"checkpoint", [](Bytes b) { nx::io::decode_checkpoint(b); }},
      {"idx", [](Bytes b) { nx::io::decode_idx(b); }},
      {"csv", [](Bytes b) { nx::io::parse_csv({reinterpret_cast<const char*>(b.data()), b.size()}); }},
  };
  return r;
}

TEST(MalformedFiles, EveryReaderRefusesEveryFileWithAnError) {
  fs::path root = fs::path(NX_TEST_DATA_DIR) / "malformed";
  int checked = 0;
  for (const auto& dir : fs::directory_iterator(root)) {
    std::string format = dir.path().filename().string();
    auto reader = readers().find(format);
    ASSERT_NE(reader, readers().end()) << "no reader for " << format;
    for (const auto& file : fs::directory_iterator(dir.path())) {
      SCOPED_TRACE(format + "/" + file.path().filename().string());
      std::vector<std::byte> bytes = read(file.path());
      try {
        reader->second(bytes);
        ADD_FAILURE() << "accepted a malformed file";
      } catch (const nx::Error& e) {
        EXPECT_NE(std::string(e.what()).find("["), std::string::npos) << e.what();
      } catch (const std::exception& e) {
        ADD_FAILURE() << "not an nx::Error: " << e.what();
      }
      ++checked;
    }
  }
  EXPECT_GE(checked, 50);
}

}  // namespace
