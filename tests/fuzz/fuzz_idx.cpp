#include "fuzz_target.hpp"
#include "nx/io/idx.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return fuzz_decode(data, size, [](auto bytes) { nx::io::decode_idx(bytes); });
}
