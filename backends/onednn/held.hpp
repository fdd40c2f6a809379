// How the oneDNN backend holds a value between nodes: a buffer plus a oneDNN memory
// descriptor saying where its elements lie. Row-major is what nx and interp expect; a
// transpose is the same buffer under permuted strides, and a convolution may leave its
// result in the blocked layout it computed it in. A consumer that needs row-major
// reorders once (materialize); oneDNN consumers read the layout as it is.
#pragma once
#include <oneapi/dnnl/dnnl.hpp>
#include <optional>
#include <span>
#include <vector>

#include "nx/backend.hpp"

namespace nx::onednn {

struct Held {
  BufferPtr buffer;
  dnnl::memory::desc desc;  // zero for row-major of a type oneDNN has no layouts for
};
using HeldValues = std::vector<Held>;

// oneDNN's name for an nx dtype, when it has one.
std::optional<dnnl::memory::data_type> dnnl_type(DType t);
// The row-major descriptor of `t` (zero when oneDNN lacks the dtype, or for scalars).
dnnl::memory::desc row_major(const TensorType& t);
dnnl::memory::dims row_major_strides(const dnnl::memory::dims& dims);
// `buffer` held row-major.
Held plain(const TensorType& t, BufferPtr buffer);
bool is_row_major(const Held& h, const TensorType& t);
// The value as a row-major buffer: `h.buffer` itself, or a reordered copy from `be`.
BufferPtr materialize(const Held& h, const TensorType& t, Backend& be);
// The element strides of `h` when it is a strided (not blocked) layout.
std::optional<dnnl::memory::dims> strides_of(const Held& h);
// A memory object over `h` (no copy).
dnnl::memory memory_of(const Held& h);
// `h` in layout `want`: `h` itself when the layouts agree, else a reordered copy in a
// buffer from `be` (recycled between runs, unlike oneDNN's own allocations).
Held in_layout(const Held& h, const dnnl::memory::desc& want, Backend& be);
// A fresh buffer from `be` for layout `desc`.
Held fresh(const dnnl::memory::desc& desc, Backend& be);

}  // namespace nx::onednn
