// nx::random: JAX's threefry2x32 PRNG (partitionable mode). RandomBits is the only
// primitive; the distributions follow jax/_src/random step for step so that the same key
// gives the same bits, composed from ordinary ops so every backend gets them.
#include "nx/random.hpp"

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "nx/detail/core.hpp"
#include "nx/grad.hpp"

namespace nx::random {
namespace {

std::string type_str(const Tensor& t) { return std::string(name(t.dtype())) + t.shape().str(); }

void check_key(const Tensor& key, const char* op, Where where) {
  if (!key.defined()) throw ValueError(op, "the key is undefined", where);
  if (key.dtype() != u32)
    throw DTypeError(op, "expects a key (u32 of shape (2), from nx::random::key), got " + type_str(key), where);
  if (key.shape() != Shape{2})
    throw ShapeError(op, "expects a key (u32 of shape (2), from nx::random::key), got " + type_str(key), where);
}

// `param` (min, max, p, ...) must broadcast to `shape` without enlarging it.
void check_param(const Tensor& param, const Shape& shape, const char* what, const char* op, Where where) {
  if (broadcast_shapes(param.shape(), shape, op, where) != shape)
    throw ShapeError(op, std::string(what) + " of shape " + param.shape().str() +
                             " does not broadcast to the requested shape " + shape.str(), where);
}

// Both threefry words for the counters of `shape` (the primitive).
std::pair<Tensor, Tensor> threefry_words(const Tensor& key, const Shape& shape, Where where) {
  TensorType t{u32, shape};
  std::vector<Tensor> r = detail::apply(Op::RandomBits, {}, std::vector{key}, {t, t}, where);
  return {r[0], r[1]};
}

// 64 random bits as an i64 bit pattern: high word from the first output (as JAX).
Tensor bits64(const Tensor& key, const Shape& shape, Where where) {
  auto [hi, lo] = threefry_words(key, shape, where);
  return bitwise_or(left_shift(as_type(hi, i64, where), 32, where), as_type(lo, i64, where), where);
}

Tensor key_row(const Tensor& keys, int64_t i, Where where) {
  return reshape(slice_along_axis(keys, 0, i, 1, 1, where), Shape{2}, where);
}

// threefry2x32 written with ops, for a counter that is a tensor (fold_in). Matches the
// RandomBits kernel (a test checks that).
std::pair<Tensor, Tensor> threefry_ops(const Tensor& k0, const Tensor& k1, Tensor x0, Tensor x1, Where w) {
  constexpr int kRot[2][4] = {{13, 15, 26, 6}, {17, 29, 16, 24}};
  const Tensor ks[3] = {k0, k1, bitwise_xor(bitwise_xor(k0, k1, w), 0x1BD11BDA, w)};
  x0 = add(x0, ks[0], w);
  x1 = add(x1, ks[1], w);
  for (int i = 0; i < 5; ++i) {
    for (int r : kRot[i % 2]) {
      x0 = add(x0, x1, w);
      Tensor rot = bitwise_or(left_shift(x1, r, w), right_shift(x1, 32 - r, w), w);
      x1 = bitwise_xor(rot, x0, w);
    }
    x0 = add(x0, ks[(i + 1) % 3], w);
    x1 = add(add(x1, ks[(i + 2) % 3], w), i + 1, w);
  }
  return {x0, x1};
}

DType check_float_dtype(DType dt, const char* op, Where where) {
  if (!is_float(dt)) throw DTypeError(op, "expects a float dtype, got " + std::string(name(dt)), where);
  return dt;
}

int mantissa_bits(DType dt) {
  switch (dt) {
    case DType::f16: return 10;
    case DType::bf16: return 7;
    case DType::f64: return 52;
    default: return 23;
  }
}

// Uniform [0, 1) in `dt` exactly as jax's _uniform before scaling: random mantissa bits
// under the exponent of 1.0, minus 1. 16-bit floats take the low 16 (f16) or 8 (bf16)
// bits of the 32-bit word as JAX does, and go through f32, where the values are exact.
Tensor unit_uniform(const Tensor& key, const Shape& shape, DType dt, Where w) {
  if (dt == f64) {
    auto [hi, lo] = threefry_words(key, shape, w);
    Tensor mant = bitwise_or(left_shift(as_type(hi, i64, w), 20, w), as_type(right_shift(lo, 12, w), i64, w), w);
    Tensor one = bitwise_or(mant, int64_t{0x3FF0000000000000}, w);
    return subtract(bitcast(one, f64, w), 1.0, w);
  }
  Tensor b = bits(key, shape, w);
  int nmant = mantissa_bits(dt);
  if (dt == f16) b = right_shift(bitwise_and(b, 0xFFFF, w), 16 - nmant, w);
  else if (dt == bf16) b = right_shift(bitwise_and(b, 0xFF, w), 8 - nmant, w);
  else b = right_shift(b, 32 - nmant, w);
  Tensor one = bitwise_or(left_shift(b, 23 - nmant, w), 0x3F800000, w);
  Tensor f = subtract(bitcast(one, f32, w), 1.0, w);
  return dt == f32 ? f : as_type(f, dt, w);
}

// The smallest positive normal value of `dt` (jnp.finfo(dt).tiny).
double smallest_normal(DType dt) {
  switch (dt) {
    case DType::f16: return std::ldexp(1.0, -14);
    case DType::f64: return std::numeric_limits<double>::min();
    default: return std::numeric_limits<float>::min();  // f32, and bf16 (f32's exponent range)
  }
}

// -log(-log(u)) for u uniform in [smallest normal, 1), as jax.random.gumbel.
Tensor gumbel(const Tensor& key, const Shape& shape, DType dt, Where w) {
  Tensor u = uniform(key, shape, {.dtype = dt, .min = scalar(smallest_normal(dt), dt, w), .max = scalar(1, dt, w)}, w);
  return negate(log(negate(log(u, w), w), w), w);
}

// The neighbour of each x in its own float dtype toward +inf (up) or -inf, as
// std::nextafter; NaN stays NaN and an infinity moving outwards stays put. Done on the bit
// pattern of the magnitude: one step away from zero is +1 in the pattern, toward zero -1.
// bf16 values are f32 values with 16 low zero bits; f16 values are f32 values with 13 low
// zero bits down to f16's smallest normal, 2^-14, and multiples of 2^-24 below it.
Tensor next_float(const Tensor& x, bool up, Where w) {
  DType dt = x.dtype();
  bool wide = dt == f64;
  DType work = wide ? f64 : f32, bits_type = wide ? i64 : i32;
  Tensor xw = as_type(x, work, w);
  Tensor mag = abs(xw, w);
  Tensor pattern = bitcast(mag, bits_type, w);
  auto from_pattern = [&](const Tensor& p) { return bitcast(p, work, w); };
  Tensor outward, inward;
  double smallest;  // the smallest positive value of dt
  if (dt == f16) {
    double normal = std::ldexp(1.0, -14);
    smallest = std::ldexp(1.0, -24);
    Tensor step = scalar(0x2000, i32, w);
    outward = select(less(mag, normal, w), add(mag, smallest, w), from_pattern(add(pattern, step, w)), w);
    inward = select(less_equal(mag, normal, w), subtract(mag, smallest, w), from_pattern(subtract(pattern, step, w)), w);
    inward = select(is_infinity(mag, w), scalar(65504.0, work, w), inward, w);  // f16's largest
  } else {
    int64_t step = dt == bf16 ? 0x10000 : 1;
    smallest = dt == f64 ? std::numeric_limits<double>::denorm_min() : std::ldexp(1.0, dt == bf16 ? -133 : -149);
    outward = from_pattern(add(pattern, scalar(step, bits_type, w), w));
    inward = from_pattern(subtract(pattern, scalar(step, bits_type, w), w));
  }
  outward = select(is_infinity(mag, w), mag, outward, w);
  Tensor moves_out = up ? greater(xw, 0.0, w) : less(xw, 0.0, w);
  Tensor new_mag = select(moves_out, outward, inward, w);
  Tensor r = select(less(xw, 0.0, w), negate(new_mag, w), new_mag, w);
  r = select(equal(xw, 0.0, w), scalar(up ? smallest : -smallest, work, w), r, w);
  r = select(is_nan(xw, w), xw, r, w);
  return as_type(r, dt, w);
}

// ---- unsigned 64-bit arithmetic on i64 bit patterns (nx has no u64 dtype) ----
constexpr int64_t kMin64 = std::numeric_limits<int64_t>::min();

Tensor uge(const Tensor& a, const Tensor& b, Where w) {
  return greater_equal(bitwise_xor(a, kMin64, w), bitwise_xor(b, kMin64, w), w);
}

// a % s for unsigned a and s, with a % 0 == a (as XLA). For s < 2^63 divide a / 2 (which
// fits a signed division), double the quotient and correct once (Hacker's Delight 9-3);
// for s >= 2^63 the quotient is 0 or 1.
Tensor urem(const Tensor& a, const Tensor& s, Where w) {
  Tensor pos = greater(s, 0, w);
  Tensor safe = select(pos, s, int64_t{1}, w);
  Tensor half = bitwise_and(right_shift(a, 1, w), std::numeric_limits<int64_t>::max(), w);
  Tensor q = left_shift(quotient(half, safe, w), 1, w);
  Tensor r = subtract(a, multiply(q, safe, w), w);
  r = select(uge(r, safe, w), subtract(r, safe, w), r, w);
  Tensor big = select(uge(a, s, w), subtract(a, s, w), a, w);
  return select(pos, r, select(equal(s, 0, w), a, big, w), w);
}

// jax's _randint after the bounds are clipped: two words of random bits per value combined
// modulo the span. `dt` is i32, u32 (u32 arithmetic) or i64 (u64 arithmetic, emulated).
Tensor randint_core(const Tensor& key, const Shape& shape, const Tensor& mn, const Tensor& mx,
                    const Tensor& max_out_of_range, DType dt, Where w) {
  bool wide = dt == i64;
  DType ut = wide ? i64 : u32;
  auto rem = [&](const Tensor& a, const Tensor& b) { return wide ? urem(a, b, w) : remainder(a, b, w); };
  Tensor keys = split(key, 2, w);
  Tensor k1 = key_row(keys, 0, w), k2 = key_row(keys, 1, w);
  Tensor hi = wide ? bits64(k1, shape, w) : bits(k1, shape, w);
  Tensor lo = wide ? bits64(k2, shape, w) : bits(k2, shape, w);
  Tensor span = as_type(subtract(mx, mn, w), ut, w);
  span = select(less_equal(mx, mn, w), ones_like(span, w), span, w);
  span = select(logical_and(max_out_of_range, greater(mx, mn, w), w), add(span, 1, w), span, w);
  // 2^nbits % span, as (2^(nbits/2) % span)^2 % span so nothing overflows.
  Tensor mult = rem(full_like(span, wide ? 4294967296.0 : 65536.0, w), span);
  mult = rem(multiply(mult, mult, w), span);
  Tensor offset = rem(add(multiply(rem(hi, span), mult, w), rem(lo, span), w), span);
  return add(mn, as_type(offset, dt, w), w);
}

void range_of(DType dt, int64_t& lo, int64_t& hi) {
  switch (dt) {
    case DType::u8: lo = 0; hi = 255; break;
    case DType::u32: lo = 0; hi = 4294967295LL; break;
    case DType::i32: lo = INT32_MIN; hi = INT32_MAX; break;
    default: lo = std::numeric_limits<int64_t>::min(); hi = std::numeric_limits<int64_t>::max(); break;
  }
}

// A bound as i64 (floats truncate, as JAX's astype(int)), clipped to [lo, hi].
Tensor bound_i64(const Tensor& v, int64_t lo, int64_t hi, Where w) {
  return min(max(as_type(v, i64, w), lo, w), hi, w);
}

// jax's _shuffle: stable sorts of x along `axis` by fresh random bits.
Tensor shuffle_lanes(Tensor key, Tensor x, int axis, Where w) {
  // Enough rounds that ties in the 32-bit sort keys are unlikely (jax's heuristic).
  double size = static_cast<double>(std::max<int64_t>(1, x.size()));
  int rounds = static_cast<int>(std::ceil(3 * std::log(size) / std::log(4294967295.0)));
  for (int i = 0; i < rounds; ++i) {
    Tensor keys = split(key, 2, w);
    key = key_row(keys, 0, w);
    Tensor order = argsort(bits(key_row(keys, 1, w), x.shape(), w), {.axis = axis}, w);
    x = take_along_axis(x, order, axis, w);
  }
  return x;
}

}  // namespace

Tensor key(int64_t seed, Where where) {
  auto u = static_cast<uint64_t>(seed);
  std::vector<uint32_t> words{static_cast<uint32_t>(u >> 32), static_cast<uint32_t>(u)};
  return from_vector(words, Shape{2}, where);
}

Tensor key(const Tensor& seed, Where where) {
  if (!is_integer(seed.dtype()) || seed.rank() != 0)
    throw DTypeError("key", "expects an integer scalar seed, got " + type_str(seed), where);
  // A 32-bit seed has no high word (jax: a logical shift by 32 of a 32-bit value is 0).
  Tensor hi = seed.dtype() == i64 ? as_type(right_shift(seed, 32, where), u32, where) : scalar(0, u32, where);
  Tensor lo = as_type(seed, u32, where);
  return stack({hi, lo}, 0, where);
}

Tensor split(const Tensor& key, int64_t num, Where where) {
  check_key(key, "split", where);
  if (num < 0) throw ValueError("split", "num must be >= 0, got " + std::to_string(num), where);
  auto [a, b] = threefry_words(key, Shape{num}, where);
  return stack({a, b}, 1, where);
}

Tensor fold_in(const Tensor& key, const Tensor& data, Where where) {
  check_key(key, "fold_in", where);
  if (data.rank() != 0 || !is_integer(data.dtype()))
    throw DTypeError("fold_in", "expects an integer scalar, got " + type_str(data), where);
  Tensor k0 = reshape(slice(key, {0}, {1}, {}, where), Shape{}, where);
  Tensor k1 = reshape(slice(key, {1}, {1}, {}, where), Shape{}, where);
  auto [a, b] = threefry_ops(k0, k1, scalar(0, u32, where), as_type(data, u32, where), where);
  return stack({a, b}, 0, where);
}

Tensor bits(const Tensor& key, const Shape& shape, Where where) {
  check_key(key, "bits", where);
  auto [a, b] = threefry_words(key, shape, where);
  return bitwise_xor(a, b, where);
}

Tensor uniform(const Tensor& key, const Shape& shape, UniformOpts opts, Where where) {
  check_key(key, "uniform", where);
  DType dt = check_float_dtype(opts.dtype, "uniform", where);
  Tensor mn = as_type(opts.min, dt, where), mx = as_type(opts.max, dt, where);
  check_param(mn, shape, "min", "uniform", where);
  check_param(mx, shape, "max", "uniform", where);
  Tensor f = unit_uniform(key, shape, dt, where);
  Tensor range = subtract(mx, mn, where);
  Tensor scaled;
  if (dt == f32) {
    // XLA (JAX on CPU/GPU) fuses f * range + min into one FMA. f64 holds the product of two
    // f32 exactly, so this rounds once, as the FMA, unless min is far below the range.
    auto wide = [&](const Tensor& t) { return as_type(t, f64, where); };
    scaled = as_type(add(multiply(wide(f), wide(range), where), wide(mn), where), f32, where);
  } else {
    scaled = add(multiply(f, range, where), mn, where);
  }
  return max(mn, scaled, where);
}

Tensor normal(const Tensor& key, const Shape& shape, NormalOpts opts, Where where) {
  check_key(key, "normal", where);
  DType dt = check_float_dtype(opts.dtype, "normal", where);
  Tensor mean = as_type(opts.mean, dt, where), sd = as_type(opts.stddev, dt, where);
  check_param(mean, shape, "mean", "normal", where);
  check_param(sd, shape, "stddev", "normal", where);
  // The float just above -1 (spacing 2^-(nmant+1) below 1), so erf_inv stays finite.
  double lo = -1.0 + std::ldexp(1.0, -(mantissa_bits(dt) + 1));
  Tensor u = uniform(key, shape, {.dtype = dt, .min = scalar(lo, dt, where), .max = scalar(1, dt, where)}, where);
  Tensor z = multiply(erf_inv(u, where), scalar(std::sqrt(2.0), dt, where), where);
  return add(mean, multiply(sd, z, where), where);
}

Tensor randint(const Tensor& key, const Shape& shape, const Tensor& min, const Tensor& max, RandintOpts opts,
               Where where) {
  check_key(key, "randint", where);
  DType dt = opts.dtype;
  if (dt != u8 && dt != u32 && dt != i32 && dt != i64)
    throw DTypeError("randint", "expects dtype u8, u32, i32 or i64, got " + std::string(name(dt)), where);
  for (const Tensor* b : {&min, &max}) {
    if (b->dtype() == DType::bool_)
      throw DTypeError("randint", "expects integer bounds, got " + type_str(*b), where);
    check_param(*b, shape, b == &min ? "min" : "max", "randint", where);
  }
  // 8-bit dtypes are sampled as i32 and converted, as JAX does (less bias).
  DType sample = dt == u8 ? i32 : dt;
  int64_t lo, hi;
  range_of(dt, lo, hi);
  Tensor mn = as_type(bound_i64(min, lo, hi, where), sample, where);
  Tensor mx = as_type(bound_i64(max, lo, dt == u8 ? hi + 1 : hi, where), sample, where);
  // A max past the dtype's largest value (256 for u8) widens the span by one.
  int64_t slo, shi;
  range_of(sample, slo, shi);
  Tensor out_of_range = dt == i64 ? Tensor(false) : greater(as_type(max, i64, where), shi, where);
  Tensor r = randint_core(key, shape, mn, mx, out_of_range, sample, where);
  if (r.shape() != shape) r = broadcast(r, shape, {}, where);
  return sample == dt ? r : as_type(r, dt, where);
}

Tensor bernoulli(const Tensor& key, const Tensor& p, const Shape& shape, Where where) {
  check_key(key, "bernoulli", where);
  check_param(p, shape, "p", "bernoulli", where);
  if (p.dtype() == DType::bool_) throw DTypeError("bernoulli", "expects a float probability, got " + type_str(p), where);
  DType dt = to_float(p.dtype());
  return less(uniform(key, shape, {.dtype = dt}, where), as_type(p, dt, where), where);
}

Tensor bernoulli(const Tensor& key, const Tensor& p, Where where) { return bernoulli(key, p, p.shape(), where); }

Tensor shuffle(const Tensor& key, const Tensor& x, ShuffleOpts opts, Where where) {
  check_key(key, "shuffle", where);
  if (x.rank() == 0) throw ShapeError("shuffle", "expects a tensor of rank >= 1, got " + type_str(x), where);
  int axis = detail::normalize_axis(opts.axis, x.rank(), "shuffle", where);
  if (opts.independent || x.rank() == 1) return shuffle_lanes(key, x, axis, where);
  // One permutation of the slices: shuffle the indices, then take.
  Tensor order = shuffle_lanes(key, iota(Shape{x.dim(axis)}, i32, {}, where), 0, where);
  return take(x, order, axis, where);
}

Tensor categorical(const Tensor& key, const Tensor& logits, CategoricalOpts opts, Where where) {
  check_key(key, "categorical", where);
  if (logits.rank() == 0)
    throw ShapeError("categorical", "expects logits with an axis of categories, got " + type_str(logits), where);
  if (logits.dtype() == DType::bool_)
    throw DTypeError("categorical", "expects numeric logits, got " + type_str(logits), where);
  int axis = detail::normalize_axis(opts.axis, logits.rank(), "categorical", where);
  Tensor lf = is_float(logits.dtype()) ? logits : as_type(logits, f32, where);
  Shape batch;
  for (int i = 0; i < logits.rank(); ++i)
    if (i != axis) batch.push_back(logits.dim(i));
  Shape shape = opts.shape.value_or(batch);
  // The draws' dims must broadcast to `shape` without enlarging it.
  bool fits = batch.rank() <= shape.rank();
  for (int i = 1; fits && i <= batch.rank(); ++i)
    fits = batch[batch.rank() - i] == 1 || batch[batch.rank() - i] == shape[shape.rank() - i];
  if (!fits)
    throw ShapeError("categorical", "logits " + logits.shape().str() + " without axis " + std::to_string(axis) +
                                        " give draws of shape " + batch.str() +
                                        ", which does not broadcast to the requested shape " + shape.str(),
                     where);
  // The noise has the requested shape with the categories inserted where `axis` is, and
  // the logits broadcast against it (as jax.random.categorical).
  int extra = shape.rank() - batch.rank();
  Shape noise_shape, logits_shape;
  for (int i = 0; i < extra; ++i) {
    noise_shape.push_back(shape[i]);
    logits_shape.push_back(1);
  }
  for (int i = extra; i <= shape.rank(); ++i) {
    if (i - extra == axis) noise_shape.push_back(logits.dim(axis));
    if (i < shape.rank()) noise_shape.push_back(shape[i]);
  }
  for (int64_t d : logits.shape()) logits_shape.push_back(d);
  Tensor noisy = add(gumbel(key, noise_shape, lf.dtype(), where), reshape(lf, logits_shape, where), where);
  return argmax(noisy, {.axis = extra + axis}, where);
}

Tensor truncated_normal(const Tensor& key, const Tensor& lower, const Tensor& upper, const Shape& shape,
                        TruncatedNormalOpts opts, Where where) {
  check_key(key, "truncated_normal", where);
  DType dt = check_float_dtype(opts.dtype, "truncated_normal", where);
  check_param(lower, shape, "lower", "truncated_normal", where);
  check_param(upper, shape, "upper", "truncated_normal", where);
  Tensor lo = as_type(lower, dt, where), hi = as_type(upper, dt, where);
  Tensor sqrt2 = scalar(std::sqrt(2.0), dt, where);
  Tensor cdf_lo = erf(divide(lo, sqrt2, where), where), cdf_hi = erf(divide(hi, sqrt2, where), where);
  Tensor u = uniform(key, shape, {.dtype = dt, .min = cdf_lo, .max = cdf_hi}, where);
  Tensor z = multiply(sqrt2, erf_inv(u, where), where);
  Tensor inside_lo = next_float(stop_grad(lo, where), true, where);
  Tensor inside_hi = next_float(stop_grad(hi, where), false, where);
  Tensor r = min(max(z, inside_lo, where), inside_hi, where);
  return r.shape() == shape ? r : broadcast(r, shape, {}, where);
}

}  // namespace nx::random
