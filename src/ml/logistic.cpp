#include <algorithm>
#include <tuple>

#include "ml/check.hpp"
#include "nx/ml/linear.hpp"
#include "nx/nx.hpp"

namespace nx::ml {
namespace {

// Up to this many parameters, automatic picks Newton: its (parameters)^2 Hessian and
// Cholesky stay small (digits: 650), and it converges in a handful of steps.
constexpr int64_t kNewtonParameters = 2000;

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
  // The probabilities at theta and the loss's gradient.
  std::pair<Tensor, Tensor> probabilities_gradient(const Tensor& theta) const {
    Tensor z = scores(theta);
    Tensor penalty = mask / c;
    if (k == 2) {
      Tensor p = sigmoid(z);
      return {p, dot(transpose(xa), w * (p - as_type(y, z.dtype()))) + penalty * theta};
    }
    Tensor p = softmax(z, 1);  // [n, k]
    Tensor r = expand_dims(w, 1) * (p - one_hot(y, k, {.dtype = z.dtype()}));
    return {p, reshape(dot(transpose(r), xa), {theta.dim(0)}) + penalty * theta};
  }
  std::pair<Tensor, Tensor> gradient_hessian(const Tensor& theta) const {
    auto [p, g] = probabilities_gradient(theta);
    int64_t m = theta.dim(0);
    Tensor penalty = mask / c;
    if (k == 2) {
      Tensor h = dot(transpose(xa), xa * expand_dims(w * p * (1.0 - p), 1));
      return {g, h + diagonal_matrix(penalty)};
    }
    // H[(a, j), (b, l)] = sum_i w_i (p_ia [a = b] - p_ia p_ib) x_ij x_il: a block diagonal
    // of per-class products minus one product of [n, k d1] matrices (never [n, k, k, d1]).
    Tensor wpx = expand_dims(w, 1) * p;                                // [n, k]
    Tensor a_rows = expand_dims(wpx, 2) * expand_dims(xa, 1);          // [n, k, d1]: w p_a x
    Tensor b_rows = expand_dims(p, 2) * expand_dims(xa, 1);            // [n, k, d1]: p_b x
    Tensor blocks = dot(a_rows, {0}, xa, {0});                         // [k, d1, d1]
    Tensor diagonal = expand_dims(blocks, 2) * reshape(eye(k, p.dtype()), {k, 1, k, 1});  // [k, d1, k, d1]
    Tensor h = reshape(diagonal - dot(a_rows, {0}, b_rows, {0}), {m, m});
    // Shifting every intercept by one amount changes nothing: a tiny ridge there keeps
    // the system regular, and the steps keep the intercepts' sum at 0.
    return {g, h + diagonal_matrix(penalty + (1.0 - mask) * 1e-10)};
  }
};

// The step length along -dir from theta: halved from 1 until the loss falls by at least
// 1e-4 of the slope's prediction (Armijo), or below 1e-8. Returns it and the loss there.
std::pair<Tensor, Tensor> backtrack(const Problem& pb, const Tensor& th, const Tensor& dir, const Tensor& f0,
                                    const Tensor& slope) {
  return while_loop(
      std::pair{full({}, 1.0, th.dtype()), pb.loss(th - dir)},
      [&](const auto& ls) { return logical_and(ls.second > f0 - 1e-4 * ls.first * slope, ls.first > 1e-8); },
      [&](const auto& ls) {
        Tensor half = ls.first * 0.5;
        return std::pair{half, pb.loss(th - half * dir)};
      });
}

// Whether to step again: below max_iter, and the last step moved some parameter by more
// than tol relative to the largest.
Tensor keep_going(const Tensor& theta, const Tensor& iterations, const Tensor& step, int64_t max_iter, double tol) {
  return logical_and(iterations < max_iter, step > tol * max(reduce_max(abs(theta)), 1.0));
}

// Newton's method with backtracking (Armijo) from theta = 0, in one while_loop.
std::pair<Tensor, Tensor> newton(const Problem& pb, int64_t max_iter, double tol) {
  Tensor theta0 = zeros({pb.mask.dim(0)}, pb.xa.dtype());
  auto [theta, iterations, step] = while_loop(
      std::tuple{theta0, scalar(int64_t{0}, DType::i64), full({}, 1.0, pb.xa.dtype())},
      [&](const auto& s) { return keep_going(std::get<0>(s), std::get<1>(s), std::get<2>(s), max_iter, tol); },
      [&](const auto& s) {
        const Tensor& th = std::get<0>(s);
        auto [g, h] = pb.gradient_hessian(th);
        // h is positive definite: a Cholesky solve (blocked, several times an LU's speed).
        Tensor l = linalg::cholesky(h);
        Tensor dir = linalg::triangular_solve(l, linalg::triangular_solve(l, g), {.transform_a = linalg::Transform::transpose});
        auto [t, ft] = backtrack(pb, th, dir, pb.loss(th), sum(g * dir));
        Tensor next = pb.centered(th - t * dir);
        return std::tuple{next, std::get<1>(s) + int64_t{1}, reduce_max(abs(next - th))};
      });
  return {theta, iterations};
}

// L-BFGS (the last kHistory steps and gradient changes stand in for the Hessian) with the
// same line search, in one while_loop: memory O(kHistory x parameters), for models whose
// Hessian would not fit. The history is a ring of slots; empty slots have rho 0 and drop
// out of the two-loop recursion.
constexpr int64_t kHistory = 10;

Tensor lbfgs_direction(const Tensor& g, const Tensor& s, const Tensor& y, const Tensor& rho, const Tensor& stored) {
  auto slot = [&stored](const Tensor& age) { return remainder(stored + (kHistory - 1) - age, kHistory); };  // age 0: newest
  auto [q, alpha] = fori_loop(0, kHistory, std::pair{g, zeros({kHistory}, g.dtype())}, [&](const Tensor& j, const auto& st) {
    Tensor i = slot(j);
    Tensor a = take(rho, i, 0) * sum(take(s, i, 0) * st.first);
    return std::pair{st.first - a * take(y, i, 0), dynamic_update_slice(st.second, reshape(a, {1}), {j})};
  });
  Tensor newest = slot(scalar(int64_t{0}, DType::i64));
  Tensor sn = take(s, newest, 0), yn = take(y, newest, 0);
  Tensor yy = sum(yn * yn);
  Tensor gamma = where(stored > int64_t{0}, sum(sn * yn) / max(yy, 1e-300), 1.0 / max(sqrt(sum(g * g)), 1.0));
  return fori_loop(0, kHistory, gamma * q, [&, &alpha = alpha](const Tensor& j, const Tensor& r) {
    Tensor age = (kHistory - 1) - j;  // oldest first
    Tensor i = slot(age);
    Tensor b = take(rho, i, 0) * sum(take(y, i, 0) * r);
    return r + take(s, i, 0) * (take(alpha, age, 0) - b);
  });
}

std::pair<Tensor, Tensor> lbfgs(const Problem& pb, int64_t max_iter, double tol) {
  int64_t m = pb.mask.dim(0);
  DType dt = pb.xa.dtype();
  Tensor theta0 = zeros({m}, dt);
  Tensor zero_i = scalar(int64_t{0}, DType::i64);
  auto init = std::tuple{theta0, pb.loss(theta0), pb.probabilities_gradient(theta0).second, zeros({kHistory, m}, dt),
                         zeros({kHistory, m}, dt), zeros({kHistory}, dt), zero_i, zero_i, full({}, 1.0, dt)};
  auto out = while_loop(
      init, [&](const auto& st) { return keep_going(std::get<0>(st), std::get<7>(st), std::get<8>(st), max_iter, tol); },
      [&](const auto& st) {
        const auto& [th, f, g, s, y, rho, stored, iterations, unused] = st;
        Tensor dir = lbfgs_direction(g, s, y, rho, stored);
        Tensor slope = sum(g * dir);
        Tensor descent = slope > 0.0;  // else (numerical trouble) the plain gradient
        dir = where(descent, dir, g);
        slope = where(descent, slope, sum(g * g));
        auto [t, ft] = backtrack(pb, th, dir, f, slope);
        Tensor next = pb.centered(th - t * dir);
        Tensor g_next = pb.probabilities_gradient(next).second;
        Tensor ds = next - th, dg = g_next - g;
        Tensor sy = sum(ds * dg);
        // Keep the pair only with positive curvature along it (the intercepts' common shift
        // has none).
        Tensor ok = sy > 1e-10 * sqrt(sum(ds * ds) * sum(dg * dg));
        Tensor i = remainder(stored, kHistory);
        auto put = [&](const Tensor& ring, const Tensor& row) {
          return where(ok, dynamic_update_slice(ring, reshape(row, {1, m}), {i, zero_i}), ring);
        };
        Tensor rho_next = where(ok, dynamic_update_slice(rho, reshape(1.0 / where(ok, sy, 1.0), {1}), {i}), rho);
        return std::tuple{next, ft, g_next, put(s, ds), put(y, dg), rho_next, stored + as_type(ok, DType::i64),
                          iterations + int64_t{1}, reduce_max(abs(ds))};
      });
  return {std::get<0>(out), std::get<7>(out)};
}

std::pair<Tensor, Tensor> solve_logistic(const Tensor& x, const Tensor& y, const Tensor& w, int64_t k, bool intercept,
                                         double c, int64_t max_iter, double tol, bool newton_solver) {
  int64_t n = x.dim(0), d = x.dim(1), d1 = d + (intercept ? 1 : 0);
  Tensor xa = intercept ? concatenate({x, ones({n, 1}, x.dtype())}, 1) : x;
  Tensor one_mask = intercept ? concatenate({ones({d}, x.dtype()), zeros({1}, x.dtype())}) : ones({d}, x.dtype());
  Tensor mask = k == 2 ? one_mask : reshape(broadcast(one_mask, {k, d1}), {k * d1});
  Problem pb{xa, y, w, mask, k, d1, c};
  return newton_solver ? newton(pb, max_iter, tol) : lbfgs(pb, max_iter, tol);
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
                                      double c, int64_t max_iter, double tol, bool newton_solver) {
    return solve_logistic(v, ids, sw, kk, intercept, c, max_iter, tol, newton_solver);
  });
  int64_t rows = k == 2 ? 1 : k, d1 = d + (opts.fit_intercept ? 1 : 0);
  bool use_newton = opts.solver == LogisticSolver::newton ||
                    (opts.solver == LogisticSolver::automatic && rows * d1 <= kNewtonParameters);
  auto [theta, iterations] =
      compiled(f, labels.ids, w, k, opts.fit_intercept, opts.c, opts.max_iter, opts.tol, use_newton);
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
