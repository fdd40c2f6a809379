// The shared body of the fuzz targets: decoding hostile bytes may throw nx::Error and
// nothing else; any crash, sanitizer report or other exception is a finding.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>

#include "nx/nx.hpp"

template <class Decode> int fuzz_decode(const uint8_t* data, size_t size, Decode&& decode) {
  try {
    decode(std::span<const std::byte>(reinterpret_cast<const std::byte*>(data), size));
  } catch (const nx::Error&) {
  }
  return 0;
}
