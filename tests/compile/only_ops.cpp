// A program that includes only <nx/ops.hpp> (not nx.hpp) and links nxpp::nxpp: the backends
// linked into it register themselves, so eager ops run.
#include <nx/ops.hpp>

#include <cstdio>

int main() {
  nx::Tensor x = nx::ones({3}) + 2.0f;
  float got = x.to_vector<float>()[2];
  std::printf("ones + 2 = %g on the default backend\n", got);
  return got == 3.0f ? 0 : 1;
}
