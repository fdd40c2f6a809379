#include "fuzz_target.hpp"
#include "nx/io/checkpoint.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return fuzz_decode(data, size, [](auto bytes) { nx::io::decode_checkpoint(bytes); });
}
