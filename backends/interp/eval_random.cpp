// RandomBits: threefry2x32 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3"),
// 20 rounds, keyed by the u32 pair in[0], applied to the counters 0, 1, ... of the output
// shape in row-major order. Counter i is the 64-bit pair (i >> 32, i & 0xFFFFFFFF); the
// two output words go to outputs 0 and 1. This is JAX's partitionable random_bits layout.
#include "kernels.hpp"

namespace nx::interp {
namespace {

constexpr uint32_t rotl(uint32_t v, int r) { return (v << r) | (v >> (32 - r)); }

struct Pair {
  uint32_t a, b;
};

Pair threefry2x32(uint32_t k0, uint32_t k1, Pair x) {
  constexpr int kRot[2][4] = {{13, 15, 26, 6}, {17, 29, 16, 24}};
  const uint32_t ks[3] = {k0, k1, k0 ^ k1 ^ 0x1BD11BDAu};
  x.a += ks[0];
  x.b += ks[1];
  for (uint32_t i = 0; i < 5; ++i) {
    for (int r : kRot[i % 2]) {
      x.a += x.b;
      x.b = rotl(x.b, r) ^ x.a;
    }
    // Key injection after every 4 rounds, with the injection count mixed in.
    x.a += ks[(i + 1) % 3];
    x.b += ks[(i + 2) % 3] + i + 1;
  }
  return x;
}

}  // namespace

NX_KERNEL(eval_random_bits) {
  const TensorType& out = n.outputs[0];
  BufferPtr o0 = alloc(be, out), o1 = alloc(be, n.outputs[1]);
  const uint32_t* key = data<uint32_t>(in[0].buffer);
  uint32_t* y0 = data<uint32_t>(o0);
  uint32_t* y1 = data<uint32_t>(o1);
  int64_t total = out.shape.size();
  for (int64_t i = 0; i < total; ++i) {
    uint64_t c = static_cast<uint64_t>(i);
    Pair r = threefry2x32(key[0], key[1], {static_cast<uint32_t>(c >> 32), static_cast<uint32_t>(c)});
    y0[i] = r.a;
    y1[i] = r.b;
  }
  return {o0, o1};
}

}  // namespace nx::interp
