#include "fuzz_target.hpp"
#include "nx/io/csv.hpp"

// Both missing-value policies and a header-less read; the first byte picks the options.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return fuzz_decode(data, size, [](std::span<const std::byte> bytes) {
    uint8_t mode = bytes.empty() ? 0 : static_cast<uint8_t>(bytes[0]);
    std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    nx::io::CsvOpts opts;
    opts.header = (mode & 1) == 0;
    opts.missing = (mode & 2) ? nx::io::Missing::fill : nx::io::Missing::error;
    if (mode & 4) opts.delimiter = ';';
    nx::io::parse_csv(text, opts);
  });
}
