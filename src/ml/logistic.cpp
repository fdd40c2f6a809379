#include <algorithm>
#include <tuple>

#include "ml/check.hpp"
#include "nx/ml/linear.hpp"
#include "nx/nx.hpp"

namespace nx::ml {
namespace {

Tensor diagonal_matrix(const Tensor& v) { return eye(v.dim(0), v.dtype()) * v; }

// The penalised loss of parameters theta (flat) and its gradient and Hessian, for the
// binary model (theta [d1]: one logistic) or the multinomial one (theta [k * d1]).
// xa: x with a column of ones when there is an intercept; y: class indices; w: weights;
// mask: 1 on penalised parameters (not intercepts).
struct Problem {
  Tensor xa, y, w, mask;
  int64_t k, d1;
  double c;

  Tensor scores(const Tensor& theta) const {
    return k == 2 ? dot(xa, theta) : dot(xa, transpose(reshape(theta, {k, d1})));
  }
  Tensor loss(const Tensor& theta) const {
    Tensor z = scores(theta);
    Tensor data;
    if (k == 2) {  // log(1 + e^z) - t z, stably
      Tensor t = as_type(y, z.dtype());
      data = max(z, 0.0) + log1p(exp(-abs(z))) - t * z;
    } else {
      Tensor picked = sum(z * one_hot(y, k, {.dtype = z.dtype()}), {.axes = {1}});
      data = logsumexp(z, {.axes = {1}}) - picked;
    }
    return sum(w * data) + sum(theta * theta * mask) / (2 * c);
  }
  // Multinomial intercepts moved to sum 0 (the loss does not see a common shift, and the
  // near-singular solve may add one; scikit-learn's are centred so).
  Tensor centered(const Tensor& theta) const {
    if (k == 2) return theta;
    Tensor t = reshape(theta, {k, d1});
    Tensor free = 1.0 - reshape(slice(mask, {0}, {d1}), {1, d1});  // 1 at the intercept column
    return reshape(t - mean(t * free, {.axes = {0}, .keep_axes = true}) * free, {k * d1});
  }
  std::pair<Tensor, Tensor> gradient_hessian(const Tensor& theta) const {
    Tensor z = scores(theta);
    int64_t m = theta.dim(0);
    Tensor penalty = mask / c;
    if (k == 2) {
      Tensor p = sigmoid(z);
      Tensor g = dot(transpose(xa), w * (p - as_type(y, z.dtype()))) + penalty * theta;
      Tensor h = dot(transpose(xa), xa * expand_dims(w * p * (1.0 - p), 1));
      return {g, h + diagonal_matrix(penalty)};
    }
    Tensor p = softmax(z, 1);                                   // [n, k]
    Tensor r = expand_dims(w, 1) * (p - one_hot(y, k, {.dtype = z.dtype()}));
    Tensor g = reshape(dot(transpose(r), xa), {m}) + penalty * theta;
    // H[(a, j), (b, l)] = sum_i w_i (p_ia [a = b] - p_ia p_ib) x_ij x_il: a block diagonal
    // of per-class products minus one product of [n, k d1] matrices (never [n, k, k, d1]).
    Tensor wpx = expand_dims(w, 1) * p;                                // [n, k]
    Tensor a_rows = expand_dims(wpx, 2) * expand_dims(xa, 1);          // [n, k, d1]: w p_a x
    Tensor b_rows = expand_dims(p, 2) * expand_dims(xa, 1);            // [n, k, d1]: p_b x
    Tensor blocks = dot(a_rows, {0}, xa, {0});                         // [k, d1, d1]
    Tensor diagonal = expand_dims(blocks, 2) * reshape(eye(k, z.dtype()), {k, 1, k, 1});  // [k, d1, k, d1]
    Tensor h = reshape(diagonal - dot(a_rows, {0}, b_rows, {0}), {m, m});
    // Shifting every intercept by one amount changes nothing: a tiny ridge there keeps
    // the system regular, and the steps keep the intercepts' sum at 0.
    return {g, h + diagonal_matrix(penalty + (1.0 - mask) * 1e-10)};
  }
};

// Newton's method with backtracking (Armijo) from theta = 0, in one while_loop.
std::pair<Tensor, Tensor> newton(const Problem& pb, int64_t max_iter, double tol) {
  Tensor theta0 = zeros({pb.mask.dim(0)}, pb.xa.dtype());
  auto [theta, iterations, step] = while_loop(
      std::tuple{theta0, scalar(int64_t{0}, DType::i64), full({}, 1.0, pb.xa.dtype())},
      [&](const auto& s) {
        const Tensor& th = std::get<0>(s);
        Tensor big = tol * max(reduce_max(abs(th)), 1.0);
        return logical_and(std::get<1>(s) < max_iter, std::get<2>(s) > big);
      },
      [&](const auto& s) {
        const Tensor& th = std::get<0>(s);
        auto [g, h] = pb.gradient_hessian(th);
        // h is positive definite: a Cholesky solve (blocked, several times an LU's speed).
        Tensor l = linalg::cholesky(h);
        Tensor dir = linalg::triangular_solve(l, linalg::triangular_solve(l, g), {.transform_a = linalg::Transform::transpose});
        Tensor f0 = pb.loss(th), slope = sum(g * dir);
        auto [t, ft] = while_loop(
            std::pair{full({}, 1.0, th.dtype()), pb.loss(th - dir)},
            [&](const auto& ls) { return logical_and(ls.second > f0 - 1e-4 * ls.first * slope, ls.first > 1e-8); },
            [&](const auto& ls) {
              Tensor half = ls.first * 0.5;
              return std::pair{half, pb.loss(th - half * dir)};
            });
        Tensor next = pb.centered(th - t * dir);
        return std::tuple{next, std::get<1>(s) + int64_t{1}, reduce_max(abs(next - th))};
      });
  return {theta, iterations};
}

std::pair<Tensor, Tensor> solve_logistic(const Tensor& x, const Tensor& y, const Tensor& w, int64_t k, bool intercept,
                                         double c, int64_t max_iter, double tol) {
  int64_t n = x.dim(0), d = x.dim(1), d1 = d + (intercept ? 1 : 0);
  Tensor xa = intercept ? concatenate({x, ones({n, 1}, x.dtype())}, 1) : x;
  Tensor one_mask = intercept ? concatenate({ones({d}, x.dtype()), zeros({1}, x.dtype())}) : ones({d}, x.dtype());
  Tensor mask = k == 2 ? one_mask : reshape(broadcast(one_mask, {k, d1}), {k * d1});
  return newton(Problem{xa, y, w, mask, k, d1, c}, max_iter, tol);
}

}  // namespace

LogisticRegression LogisticRegression::fit(const Tensor& x, const Tensor& y, LogisticRegressionOpts opts, Where where) {
  const std::string who = "LogisticRegression.fit";
  if (!(opts.c > 0)) throw ValueError(who, "c must be > 0, got " + std::to_string(opts.c), where);
  if (opts.max_iter < 1 || !(opts.tol >= 0)) throw ValueError(who, "needs max_iter >= 1 and tol >= 0", where);
  Tensor f = detail::features(x, who, where);
  int64_t n = f.dim(0), d = f.dim(1);
  detail::ClassIds labels = detail::class_ids(y, n, who, where);
  int64_t k = labels.count;
  Tensor w = detail::weights(opts.sample_weight, n, f.dtype(), who, where);
  static const auto compiled = jit([](const Tensor& v, const Tensor& ids, const Tensor& sw, int64_t kk, bool intercept,
                                      double c, int64_t max_iter, double tol) {
    return solve_logistic(v, ids, sw, kk, intercept, c, max_iter, tol);
  });
  auto [theta, iterations] =
      compiled(f, labels.ids, w, k, opts.fit_intercept, opts.c, opts.max_iter, opts.tol);
  int64_t rows = k == 2 ? 1 : k, d1 = d + (opts.fit_intercept ? 1 : 0);
  Tensor t = reshape(theta, {rows, d1});
  return {.coef = slice(t, {0, 0}, {rows, d}),
          .intercept = opts.fit_intercept ? reshape(slice(t, {0, d}, {rows, 1}), {rows}) : zeros({rows}, f.dtype()),
          .classes = labels.classes,
          .iterations = iterations};
}

Tensor LogisticRegression::decision_function(const Tensor& x, Where where) const {
  Tensor f = detail::features(x, coef.dim(1), "LogisticRegression.decision_function", where);
  Tensor z = dot(f, transpose(as_type(coef, f.dtype()))) + as_type(intercept, f.dtype());
  return coef.dim(0) == 1 ? reshape(z, {f.dim(0)}) : z;
}

Tensor LogisticRegression::predict_proba(const Tensor& x, Where where) const {
  Tensor z = decision_function(x, where);
  if (coef.dim(0) > 1) return softmax(z, 1);
  Tensor p = expand_dims(sigmoid(z), 1);
  return concatenate({1.0 - p, p}, 1);
}

Tensor LogisticRegression::predict(const Tensor& x, Where where) const {
  Tensor z = decision_function(x, where);
  Tensor index = coef.dim(0) > 1 ? argmax(z, {.axis = 1}) : as_type(z > 0.0, DType::i64);
  return take(classes, index, 0);
}

}  // namespace nx::ml
