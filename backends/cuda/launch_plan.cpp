#include "launch_plan.hpp"

#include <algorithm>

namespace nx::cuda_backend {
namespace {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
unsigned clamp_grid(int64_t blocks, int64_t cap) { return static_cast<unsigned>(std::clamp<int64_t>(blocks, 1, cap)); }

}  // namespace

bool folded_in_f64(const KernelSpec& spec, size_t output) {
  const KernelSpec::Instr& ins = spec.code[static_cast<size_t>(spec.outputs[output])];
  return (spec.mode == Mode::cols || spec.mode == Mode::all) && is_reduction(ins.op) &&
         (ins.dtype == DType::f16 || ins.dtype == DType::bf16);
}

size_t partial_item_size(const KernelSpec& spec, size_t output) {
  return folded_in_f64(spec, output) ? 8 : item_size(spec.code[static_cast<size_t>(spec.outputs[output])].dtype);
}

LaunchPlan plan_launches(const KernelSpec& spec, int64_t rows, int64_t cols, int sms) {
  LaunchPlan plan;
  plan.partials.assign(spec.outputs.size(), 0);
  int64_t n = rows * cols;
  if (n == 0) return plan;
  const int64_t cap = int64_t{sms} * 32;  // resident blocks: a few waves of grid-stride work
  const Dim3 block{static_cast<unsigned>(kBlock), 1, 1};
  // Reductions' partial results (parts rows of `width`), folded into the outputs.
  auto fold_partials = [&](int64_t parts, int64_t width) {
    for (size_t o = 0; o < spec.outputs.size(); ++o) {
      if (!is_reduction(spec.code[static_cast<size_t>(spec.outputs[o])].op)) continue;
      if (parts <= 1 && !folded_in_f64(spec, o)) continue;  // written directly
      plan.partials[o] = parts * width;
      Launch f{.suffix = "_fold" + std::to_string(o), .grid = {clamp_grid(width, 65535), 1, 1}, .block = block};
      f.fold = static_cast<int>(o), f.parts = parts, f.width = width;
      plan.launches.push_back(f);
    }
  };
  switch (spec.mode) {
    case Mode::elementwise: {
      int64_t per_block = spec.two_d ? kBlock : int64_t{kBlock} * kVector;
      plan.launches.push_back({.suffix = "", .grid = {clamp_grid(ceil_div(n, per_block), cap), 1, 1}, .block = block});
      break;
    }
    case Mode::rows:
      if (cols <= kWarpRowCols)
        plan.launches.push_back({.suffix = "_warp", .grid = {clamp_grid(ceil_div(rows, kBlock / 32), cap), 1, 1}, .block = block});
      else
        plan.launches.push_back({.suffix = "", .grid = {clamp_grid(rows, cap), 1, 1}, .block = block});
      break;
    case Mode::cols: {
      // Enough chunks of rows that the grid fills the device, each at least 32 rows.
      int64_t across = ceil_div(cols, kBlock);
      int64_t chunks = std::clamp<int64_t>(ceil_div(int64_t{sms} * 4, across), 1, std::max<int64_t>(1, rows / 32));
      chunks = std::min<int64_t>(chunks, 65535);
      plan.chunk = ceil_div(rows, chunks);
      plan.chunked = true;
      chunks = ceil_div(rows, plan.chunk);
      plan.launches.push_back(
          {.suffix = "", .grid = {static_cast<unsigned>(across), static_cast<unsigned>(chunks), 1}, .block = block});
      fold_partials(chunks, cols);
      break;
    }
    case Mode::all: {
      int64_t blocks = std::clamp<int64_t>(ceil_div(n, int64_t{kBlock} * 8), 1, std::min<int64_t>(cap, 1024));
      plan.launches.push_back({.suffix = "", .grid = {static_cast<unsigned>(blocks), 1, 1}, .block = block});
      fold_partials(blocks, 1);
      break;
    }
  }
  return plan;
}

std::pair<int64_t, int64_t> kernel_extent(const fusion::Group& grp) {
  bool flat = grp.spec.mode == Mode::all || (grp.spec.mode == Mode::elementwise && !grp.spec.two_d);
  return flat ? std::pair{int64_t{1}, grp.shape.size()} : std::pair{grp.rows, grp.cols};
}

}  // namespace nx::cuda_backend
