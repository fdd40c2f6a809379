// cuBLASLt epilogues: a product whose only reader is a fusion group computing
// `dot + bias` or `max(dot + bias, 0)`, the bias along the product's last axis, runs as
// one cuBLASLt call that adds the bias (and applies the relu) before storing: the
// group's kernel and the product's own buffer go. A dense layer at inference is this;
// in training the product is also read by the backward pass, so it stays as it is.
#pragma once
#include <vector>

#include "nx/detail/fusion/partition.hpp"

namespace nx::cuda_backend {

struct EpilogueFusion {
  size_t group;    // the group it replaces
  size_t dot;      // the DotGeneral node, which no longer runs alone
  size_t bias;     // the group's input holding the bias, (N,) contiguous
  bool relu;
};

// The groups of `part` that are such epilogues of a product cuBLASLt runs (f32, bf16,
// f16, no batch axes, one free axis on the right).
std::vector<EpilogueFusion> find_epilogues(const Graph& g, const fusion::Partition& part);

}  // namespace nx::cuda_backend
