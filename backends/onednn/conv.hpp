// conv (forward) as a oneDNN convolution: plain NC... / OI... buffers reordered to and from
// the layouts oneDNN picks for speed.
#pragma once
#include <optional>
#include <span>
#include <vector>

#include "nx/backend.hpp"

namespace nx::onednn {

// The convolution, or nullopt for what oneDNN has no primitive for (input dilation, batch
// groups, negative padding, dtypes other than f32, empty or > 3-d spatial shapes): the
// caller falls back to interp.
std::optional<std::vector<BufferPtr>> conv(const Node& node, std::span<const Operand> in, Backend& be);

}  // namespace nx::onednn
