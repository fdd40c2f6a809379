#include "held.hpp"

#include "dnnl_common.hpp"

namespace nx::onednn {

std::optional<dnnl::memory::data_type> dnnl_type(DType t) {
  switch (t) {
    case DType::f32: return dnnl::memory::data_type::f32;
    case DType::bf16: return dnnl::memory::data_type::bf16;
    case DType::f16: return dnnl::memory::data_type::f16;
    case DType::i32: return dnnl::memory::data_type::s32;
    case DType::u8: return dnnl::memory::data_type::u8;
    default: return std::nullopt;
  }
}

dnnl::memory::dims row_major_strides(const dnnl::memory::dims& d) {
  dnnl::memory::dims s(d.size(), 1);
  for (size_t i = d.size(); i-- > 1;) s[i - 1] = s[i] * d[i];
  return s;
}

dnnl::memory::desc row_major(const TensorType& t) {
  auto dt = dnnl_type(t.dtype);
  if (!dt || t.shape.rank() == 0 || t.shape.rank() > DNNL_MAX_NDIMS) return {};
  dnnl::memory::dims d = t.shape.to_vector();
  return {d, *dt, row_major_strides(d)};
}

Held plain(const TensorType& t, BufferPtr buffer) { return {std::move(buffer), row_major(t)}; }

bool is_row_major(const Held& h, const TensorType& t) { return h.desc.is_zero() || h.desc == row_major(t); }

BufferPtr materialize(const Held& h, const TensorType& t, Backend& be) {
  if (is_row_major(h, t)) return h.buffer;
  Held out = in_layout(h, row_major(t), be);
  stream().wait();
  return out.buffer;
}

std::optional<dnnl::memory::dims> strides_of(const Held& h) {
  const dnnl_memory_desc_t& d = h.desc.data;
  if (h.desc.is_zero() || d.format_kind != dnnl_blocked || d.format_desc.blocking.inner_nblks != 0 || d.offset0 != 0)
    return std::nullopt;
  return dnnl::memory::dims(d.format_desc.blocking.strides, d.format_desc.blocking.strides + d.ndims);
}

dnnl::memory memory_of(const Held& h) { return {h.desc, engine(), h.buffer->data()}; }

Held fresh(const dnnl::memory::desc& desc, Backend& be) { return {be.allocate(desc.get_size()), desc}; }

Held in_layout(const Held& h, const dnnl::memory::desc& want, Backend& be) {
  if (h.desc == want) return h;
  Held out = fresh(want, be);
  dnnl::memory from = memory_of(h), to = memory_of(out);
  dnnl::reorder(from, to).execute(stream(), from, to);
  return out;
}

}  // namespace nx::onednn
