#include "nx/detail/fusion/index_map.hpp"

#include <algorithm>

namespace nx::fusion {
namespace {

int64_t ceil_div(int64_t a, int64_t b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }  // b > 0

bool full_mask(const View& v, size_t d) { return v.lo[d] <= 0 && v.hi[d] >= v.shape[d]; }
bool mask_free(const View& v) {
  for (size_t d = 0; d < v.shape.size(); ++d)
    if (!full_mask(v, d)) return false;
  return true;
}

View view_of(const std::vector<int64_t>& shape) {
  View v;
  v.shape = shape;
  v.strides.assign(shape.size(), 0);
  int64_t stride = 1;
  for (size_t d = shape.size(); d-- > 0;) v.strides[d] = stride, stride *= shape[d];
  v.lo.assign(shape.size(), 0);
  v.hi = shape;
  return v;
}

// Strides for `to` over the same elements as mask-free v, when strides can express it.
bool restride(const View& v, const std::vector<int64_t>& to, std::vector<int64_t>& strides) {
  std::vector<std::pair<int64_t, int64_t>> old;  // (size, stride), size-1 axes dropped
  for (size_t d = 0; d < v.shape.size(); ++d)
    if (v.shape[d] != 1) old.push_back({v.shape[d], v.strides[d]});
  strides.assign(to.size(), 0);
  size_t i = 0, j = 0;
  while (j < to.size()) {
    if (to[j] == 1) {
      ++j;
      continue;
    }
    if (i >= old.size()) return false;
    // The smallest run of old axes [i, i2) and new axes [j, j2) with equal products.
    size_t i2 = i + 1, j2 = j + 1;
    int64_t p_old = old[i].first, p_new = to[j];
    while (p_old != p_new) {
      if (p_old < p_new) {
        if (i2 >= old.size()) return false;
        p_old *= old[i2++].first;
      } else {
        if (j2 >= to.size()) return false;
        p_new *= to[j2++];
      }
    }
    for (size_t k = i; k + 1 < i2; ++k)
      if (old[k].second != old[k + 1].second * old[k + 1].first) return false;
    int64_t stride = old[i2 - 1].second;
    for (size_t jj = j2; jj-- > j;) strides[jj] = stride, stride *= to[jj];
    i = i2, j = j2;
  }
  return i == old.size();
}

}  // namespace

IndexMap contiguous(const Shape& shape) { return {view_of(shape.to_vector())}; }

void map_transpose(IndexMap& m, const std::vector<int64_t>& perm) {
  View& v = m.front();
  View t = v;
  for (size_t j = 0; j < perm.size(); ++j) {
    size_t d = static_cast<size_t>(perm[j]);
    t.shape[j] = v.shape[d], t.strides[j] = v.strides[d], t.lo[j] = v.lo[d], t.hi[j] = v.hi[d];
  }
  v = std::move(t);
}

void map_slice(IndexMap& m, const std::vector<int64_t>& starts, const std::vector<int64_t>& lengths,
               const std::vector<int64_t>& strides) {
  View& v = m.front();
  for (size_t d = 0; d < v.shape.size(); ++d) {
    int64_t n = lengths[d] == 0 ? 0 : (lengths[d] - 1) / strides[d] + 1;
    v.offset += starts[d] * v.strides[d];
    v.lo[d] = std::clamp<int64_t>(ceil_div(v.lo[d] - starts[d], strides[d]), 0, n);
    v.hi[d] = std::clamp<int64_t>(ceil_div(v.hi[d] - starts[d], strides[d]), 0, n);
    v.strides[d] *= strides[d];
    v.shape[d] = n;
  }
}

void map_reverse(IndexMap& m, const std::vector<int64_t>& axes) {
  View& v = m.front();
  for (int64_t a : axes) {
    size_t d = static_cast<size_t>(a);
    int64_t n = v.shape[d], lo = v.lo[d];
    v.offset += (n - 1) * v.strides[d];
    v.strides[d] = -v.strides[d];
    v.lo[d] = n - v.hi[d], v.hi[d] = n - lo;
  }
}

void map_pad(IndexMap& m, const std::vector<int64_t>& lo, const std::vector<int64_t>& hi) {
  View& v = m.front();
  for (size_t d = 0; d < v.shape.size(); ++d) {
    int64_t n = v.shape[d] + lo[d] + hi[d];
    v.offset -= lo[d] * v.strides[d];
    v.lo[d] = std::clamp<int64_t>(v.lo[d] + lo[d], 0, n);
    v.hi[d] = std::clamp<int64_t>(v.hi[d] + lo[d], 0, n);
    v.shape[d] = n;
  }
}

void map_broadcast(IndexMap& m, const Shape& to, const std::vector<int64_t>& dims) {
  View& v = m.front();
  View b = view_of(to.to_vector());
  std::fill(b.strides.begin(), b.strides.end(), 0);
  b.offset = v.offset;
  for (size_t d = 0; d < v.shape.size(); ++d) {
    size_t j = static_cast<size_t>(dims[d]);
    if (v.shape[d] == b.shape[j]) {
      b.strides[j] = v.strides[d], b.lo[j] = v.lo[d], b.hi[j] = v.hi[d];
    } else if (v.lo[d] > 0 || v.hi[d] < 1) {  // a size-1 axis out of bounds stays so
      b.hi[j] = 0;
    }
  }
  v = std::move(b);
}

void map_reshape(IndexMap& m, const Shape& to) {
  View& v = m.front();
  std::vector<int64_t> strides;
  if (mask_free(v) && restride(v, to.to_vector(), strides)) {
    v.shape = to.to_vector();
    v.strides = std::move(strides);
    v.lo.assign(v.shape.size(), 0);
    v.hi = v.shape;
    return;
  }
  m.insert(m.begin(), view_of(to.to_vector()));
}

IndexMap simplified(IndexMap m) {
  for (View& v : m) {
    View s;
    s.offset = v.offset;
    for (size_t d = 0; d < v.shape.size(); ++d) {
      if (v.shape[d] == 1 && full_mask(v, d)) continue;
      bool merge = !s.shape.empty() && full_mask(v, d) && s.lo.back() <= 0 && s.hi.back() >= s.shape.back() &&
                   s.strides.back() == v.strides[d] * v.shape[d];
      if (merge) {
        s.shape.back() *= v.shape[d];
        s.strides.back() = v.strides[d];
        s.hi.back() = s.shape.back();
        continue;
      }
      s.shape.push_back(v.shape[d]);
      s.strides.push_back(v.strides[d]);
      s.lo.push_back(std::max<int64_t>(v.lo[d], 0));
      s.hi.push_back(std::min(v.hi[d], v.shape[d]));
    }
    v = std::move(s);
  }
  // A view that passes its flat index through is dropped.
  auto passes = [](const View& v) {
    return v.offset == 0 && (v.shape.empty() || (v.shape.size() == 1 && v.strides[0] == 1 && mask_free(v)));
  };
  std::erase_if(m, passes);
  return m;  // empty: the offset is the element index
}

bool is_identity(const IndexMap& m) {
  if (m.empty()) return true;
  if (m.size() != 1 || m[0].offset != 0) return false;
  const View& v = m[0];
  return v.shape.empty() || (v.shape.size() == 1 && v.strides[0] == 1 && mask_free(v));
}

bool fits_32_bits(const IndexMap& m) {
  for (const View& v : m) {
    int64_t size = 1, reach = v.offset < 0 ? -v.offset : v.offset;
    for (size_t d = 0; d < v.shape.size(); ++d)
      size *= v.shape[d], reach += (v.shape[d] - 1) * (v.strides[d] < 0 ? -v.strides[d] : v.strides[d]);
    if (size >= (int64_t{1} << 31) || reach >= (int64_t{1} << 31)) return false;
  }
  return true;
}

std::string map_key(const IndexMap& m) {
  std::string k;
  for (const View& v : m) {
    k += '[' + std::to_string(v.offset);
    for (size_t d = 0; d < v.shape.size(); ++d)
      k += ' ' + std::to_string(v.shape[d]) + '*' + std::to_string(v.strides[d]) + ':' + std::to_string(v.lo[d]) + '-' +
           std::to_string(v.hi[d]);
    k += ']';
  }
  return k;
}

}  // namespace nx::fusion
