// IDX files, the format of MNIST and Fashion-MNIST, raw or gzip-compressed, and a loader for
// the Fashion-MNIST data set.
//
//   nx::Tensor labels = nx::io::load_idx("train-labels-idx1-ubyte.gz");   // u8 (60000)
//   auto fm = nx::io::load_fashion_mnist();  // fm.train_images: u8 (60000, 28, 28)
//
// Element types (the third magic byte) map to nx dtypes: 0x08 unsigned byte -> u8,
// 0x0C int -> i32, 0x0D float -> f32, 0x0E double -> f64; nx has no 8- or 16-bit signed
// integers, so 0x09 signed byte and 0x0B short widen to the nearest wider type, i32.
// Data is big-endian; dims are checked (rank <= 8, product without overflow) and must account
// for exactly the bytes present. The decoded tensor (after widening) may take at most
// IdxOpts::max_bytes, checked before anything is inflated or allocated. gzip input (1f 8b
// magic) is read incrementally, so a short stream never allocates what its header claims.
// Errors are nx::ValueError naming load_idx or load_fashion_mnist.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "nx/tensor.hpp"

namespace nx::io {

struct IdxOpts {
  // The most bytes the decoded tensor may take, counted after i8/i16 widen to i32: a 500 KB
  // gzip'd file can declare gigabytes. Raise it to read larger data sets.
  uint64_t max_bytes = uint64_t{4} << 30;
};

Tensor load_idx(const std::string& path, IdxOpts opts = {}, Where where = Where::current());
// The same from bytes in memory (raw IDX, or gzip'd IDX).
Tensor decode_idx(std::span<const std::byte> bytes, IdxOpts opts = {}, Where where = Where::current());

struct FashionMnist {
  Tensor train_images, train_labels;  // u8 (60000, 28, 28), u8 (60000) with values 0..9
  Tensor test_images, test_labels;    // u8 (10000, 28, 28), u8 (10000)
};
// Reads {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz] from `dir`; "" means
// $NX_FASHION_MNIST_DIR if set, else /usr/share/datasets/fashion-mnist (Debian's
// dataset-fashion-mnist package).
FashionMnist load_fashion_mnist(const std::string& dir = "", Where where = Where::current());

}  // namespace nx::io
