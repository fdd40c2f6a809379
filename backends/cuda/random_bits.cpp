#include "random_bits.hpp"

#include "kernels.hpp"

namespace nx::cuda_backend {

const std::string& random_bits_source() {
  static const std::string source = R"(__device__ __forceinline__ unsigned nx_rotl(unsigned v, int r) { return (v << r) | (v >> (32 - r)); }
extern "C" __global__ void __launch_bounds__(256) nx_random_bits(const unsigned* __restrict__ key, unsigned* __restrict__ y0,
                                                                unsigned* __restrict__ y1, long long n) {
  const int rot[2][4] = {{13, 15, 26, 6}, {17, 29, 16, 24}};
  const unsigned ks[3] = {key[0], key[1], key[0] ^ key[1] ^ 0x1BD11BDAu};
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
    const unsigned long long c = (unsigned long long)i;
    unsigned a = (unsigned)(c >> 32) + ks[0], b = (unsigned)c + ks[1];
#pragma unroll
    for (unsigned r = 0; r < 5; ++r) {
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        a += b;
        b = nx_rotl(b, rot[r % 2][j]) ^ a;
      }
      a += ks[(r + 1) % 3];  // key injection, with the injection count mixed in
      b += ks[(r + 2) % 3] + r + 1;
    }
    y0[i] = a;
    y1[i] = b;
  }
}
)";
  return source;
}

std::vector<BufferPtr> random_bits(const Node& n, std::span<const Operand> in, Backend& be) {
  const void* kernel = load_source(random_bits_source(), "nx_random_bits");
  BufferPtr y0 = be.allocate(n.outputs[0].bytes()), y1 = be.allocate(n.outputs[1].bytes());
  launch_over(kernel, {in[0].buffer->data(), y0->data(), y1->data()}, n.outputs[0].shape.size());
  return {y0, y1};
}

}  // namespace nx::cuda_backend
