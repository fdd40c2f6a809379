// Counter-based random numbers, bit-compatible with JAX's default PRNG: threefry2x32 in
// the jax_threefry_partitionable=True mode (JAX's default; checked against JAX 0.10.2).
// A key is a u32 tensor of shape (2), as jax.random.PRNGKey gives. A key is never
// mutated: split it (or fold_in a number) to get fresh keys, and use each key once.
//
// Results depend only on the key, the shape and the dtype, never on the backend or the
// thread count. Compared with JAX (same key, shape, dtype, bounds):
//   bitwise equal: key (int64 seeds as JAX with jax_enable_x64; non-negative seeds below
//     2^31 in either mode), split, fold_in, bits, uniform, bernoulli, shuffle, randint for
//     i32/u32/u8 (as jax.random.randint) and i64 (as jax.random.randint with
//     jax_enable_x64);
//   except: uniform f64 with bounds other than [0, 1) is within a few ulps (XLA on CPU/GPU
//     fuses the scale and shift into one FMA; nx reproduces that for f32 by computing it
//     in f64, which has no wider type); normal is within an ulp or two (sqrt(2) *
//     erf_inv of a uniform, as JAX, with a different erf_inv).
//
// The one primitive is RandomBits: key -> the two u32 outputs of threefry2x32(key, c)
// for the counters c = 0, 1, ... (row-major over the shape, as a 64-bit number split into
// its high and low words). Everything else is composed from ordinary ops.
#pragma once
#include <cstdint>
#include <optional>
#include <utility>

#include "nx/ops.hpp"

namespace nx::random {

// A key from a seed: (seed >> 32, seed & 0xFFFFFFFF) as u32.
Tensor key(int64_t seed, Where where = Where::current());
// The same from an integer scalar tensor (may be traced).
Tensor key(const Tensor& seed, Where where = Where::current());

// `num` new keys, shape (num, 2), as jax.random.split. Key i equals fold_in(key, i).
Tensor split(const Tensor& key, int64_t num = 2, Where where = Where::current());
// A new key that mixes in `data` (a u32 scalar, or a C++ number taken modulo 2^32), as
// jax.random.fold_in.
Tensor fold_in(const Tensor& key, const Tensor& data, Where where = Where::current());

// Raw bits: the u32 values jax.random.bits(key, shape, uint32) gives.
Tensor bits(const Tensor& key, const Shape& shape, Where where = Where::current());

struct UniformOpts {
  DType dtype = f32;  // a float dtype
  Tensor min = 0.0;   // inclusive; broadcast to the shape
  Tensor max = 1.0;   // exclusive (up to rounding)
};
// Uniform floats in [min, max), as jax.random.uniform: the mantissa bits are random bits
// under the exponent of 1.0, giving [1, 2), then 1 is subtracted and the range scaled.
Tensor uniform(const Tensor& key, const Shape& shape, UniformOpts opts = {},
               Where where = Where::current());

struct NormalOpts {
  DType dtype = f32;  // a float dtype
  Tensor mean = 0.0;
  Tensor stddev = 1.0;
};
// mean + stddev * z with z standard normal, as jax.random.normal (then scaled):
// z = sqrt(2) * erf_inv(u) with u uniform in (-1, 1).
Tensor normal(const Tensor& key, const Shape& shape, NormalOpts opts = {},
              Where where = Where::current());

struct RandintOpts {
  DType dtype = i64;  // u8, u32, i32 or i64
};
// Integers in [min, max) (min when max <= min), as jax.random.randint: modulo of twice
// the bits of the dtype, so the bias is negligible. min/max broadcast to the shape and
// are clipped to the dtype's range (max may be one past it: randint(k, s, 0, 256, {u8})).
Tensor randint(const Tensor& key, const Shape& shape, const Tensor& min, const Tensor& max,
               RandintOpts opts = {}, Where where = Where::current());

// Booleans, true with probability p (broadcast to the shape), as jax.random.bernoulli:
// uniform(key, shape, {.dtype = p's float dtype (f32 for integers)}) < p.
Tensor bernoulli(const Tensor& key, const Tensor& p, const Shape& shape,
                 Where where = Where::current());
// The same with the shape of p.
Tensor bernoulli(const Tensor& key, const Tensor& p, Where where = Where::current());

struct ShuffleOpts {
  int axis = 0;
  // false: the slices along `axis` are permuted as a whole (one permutation);
  // true: every 1-D lane along `axis` gets its own permutation.
  bool independent = false;
};
// A random permutation of x along an axis, as jax.random.permutation(key, x, axis,
// independent): sorts by random u32 bits, repeated with fresh keys for large inputs so
// that ties do not bias the result.
Tensor shuffle(const Tensor& key, const Tensor& x, ShuffleOpts opts = {},
               Where where = Where::current());

struct CategoricalOpts {
  detail::NamedFieldsOnly named_fields_only;
  int axis = -1;  // the axis of the categories in logits
  // Default: logits' shape without `axis`. Else a shape those dims broadcast to; leading
  // dims beyond them are independent draws: {.shape = {1000, 3}} for logits (3, k).
  std::optional<Shape> shape;
};
// Category indices (i64) drawn with probabilities softmax(logits) along `axis`, as
// jax.random.categorical: the Gumbel-max trick, argmax(logits + gumbel noise), with the
// noise -log(-log(u)) for u = uniform(key, ..., {.min = the dtype's smallest normal}).
// Integer logits compute in f32; a -inf logit is never drawn.
Tensor categorical(const Tensor& key, const Tensor& logits, CategoricalOpts opts = {},
                   Where where = Where::current());
inline Tensor categorical(const Tensor& key, const Tensor& logits, Axis axis, Where where = Where::current()) {
  return categorical(key, logits, CategoricalOpts{.axis = axis.value}, where);
}

struct TruncatedNormalOpts {
  detail::NamedFieldsOnly named_fields_only;
  DType dtype = f32;  // a float dtype
};
// Standard normal values conditioned on lower < z < upper (bounds broadcast to the shape;
// -inf/inf allowed), as jax.random.truncated_normal: the inverse CDF,
// sqrt(2) * erf_inv(u) for u uniform between erf(lower / sqrt(2)) and erf(upper / sqrt(2)),
// clamped to the open interval (rounding may land on a bound otherwise). No gradient
// flows through the clamp's bounds (as JAX).
Tensor truncated_normal(const Tensor& key, const Tensor& lower, const Tensor& upper, const Shape& shape,
                        TruncatedNormalOpts opts = {}, Where where = Where::current());

}  // namespace nx::random
