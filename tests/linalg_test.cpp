// nx::linalg against numpy/scipy golden values (tests/golden/gen_linalg_random.py): batched
// f64 and f32 inputs, the sign conventions, reconstructions, singular inputs, jit and errors.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "nx/nx.hpp"
#include "test_support.hpp"

namespace {

using nx_test::expect_error;
using nx_test::expect_op_error;
using nx_test::kInf;
using nx_test::kNaN;

using G = nx_test::GoldenArray;
#include "golden/linalg_random/linalg_cases.inc"

namespace la = nx::linalg;

nx::Tensor T(const G& g, nx::DType dt = nx::f64) { return nx::as_type(nx::from_vector(g.data, nx::Shape(g.shape)), dt); }

// Shape, dtype and every value within atol + rtol * |expected|.
void expect_close(const nx::Tensor& got, const G& want, double tol, nx::DType dt = nx::f64) {
  ASSERT_EQ(got.shape(), nx::Shape(want.shape));
  EXPECT_EQ(got.dtype(), dt);
  auto v = got.to_vector<double>();
  for (size_t i = 0; i < v.size(); ++i)
    EXPECT_NEAR(v[i], want.data[i], tol * (1 + std::fabs(want.data[i]))) << "element " << i;
}

void expect_close(const nx::Tensor& got, const nx::Tensor& want, double tol) {
  ASSERT_EQ(got.shape(), want.shape());
  auto a = got.to_vector<double>(), b = want.to_vector<double>();
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], tol * (1 + std::fabs(b[i]))) << "element " << i;
}

nx::Tensor mT(const nx::Tensor& x) {
  std::vector<int> p;
  for (int i = 0; i < x.rank(); ++i) p.push_back(i);
  std::swap(p[p.size() - 1], p[p.size() - 2]);
  return nx::transpose(x, p);
}

TEST(Linalg, CholeskyBatchedF64AndF32) {
  nx::Tensor l = la::cholesky(T(chol_a));
  expect_close(l, chol_l, 1e-12);
  expect_close(nx::matmul(l, mT(l)), T(chol_a), 1e-12);
  expect_close(la::cholesky(T(chol32_a, nx::f32)), chol32_l, 2e-6, nx::f32);
  // Only the lower triangle is read.
  nx::Tensor a = T(chol_a);
  nx::Tensor junk = a + nx::select(nx::iota({3, 3}, nx::i64, 1) > nx::iota({3, 3}, nx::i64, 0), 100.0, 0.0);
  expect_close(la::cholesky(junk), chol_l, 1e-12);
  // Integers compute in f32.
  nx::Tensor i = la::cholesky(nx::tensor({{4, 2}, {2, 5}}));
  EXPECT_EQ(i.dtype(), nx::f32);
  EXPECT_EQ(i.to_vector<float>(), (std::vector<float>{2, 0, 1, 2}));
}

TEST(Linalg, CholeskyNotPositiveDefiniteIsNaN) {
  auto a = nx::tensor({{{4.0, 0.0}, {0.0, 9.0}}, {{1.0, 2.0}, {2.0, 1.0}}}, nx::f64);
  auto l = la::cholesky(a).to_vector<double>();
  EXPECT_EQ(l[0], 2.0);  // the good matrix of the batch is unaffected
  EXPECT_EQ(l[3], 3.0);
  for (int i = 4; i < 8; ++i) EXPECT_TRUE(std::isnan(l[static_cast<size_t>(i)])) << i;
}

TEST(Linalg, TriangularSolveAllVariants) {
  nx::Tensor a = T(tri_a), bl = T(tri_b_left), br = T(tri_b_right);
  const G* want[8] = {&tri_x_llon, &tri_x_llot, &tri_x_lupn, &tri_x_lupt,
                      &tri_x_rlon, &tri_x_rlot, &tri_x_rupn, &tri_x_rupt};
  int i = 0;
  for (bool left : {true, false})
    for (bool lower : {true, false})
      for (bool trans : {false, true}) {
        SCOPED_TRACE(std::to_string(i));
        la::TriangularSolveOpts o{.left_side = left, .lower = lower,
                                  .transform_a = trans ? la::Transform::transpose : la::Transform::none};
        expect_close(la::triangular_solve(a, left ? bl : br, o), *want[i], 1e-12);
        expect_close(la::triangular_solve(nx::as_type(a, nx::f32), nx::as_type(left ? bl : br, nx::f32), o), *want[i],
                     2e-5, nx::f32);
        ++i;
      }
  // A batch of vectors, and a batch-less b broadcast against a's batch.
  nx::Tensor v = nx::slice(bl, {0, 0, 0}, {2, 3, 1});
  nx::Tensor xv = la::triangular_solve(a, nx::squeeze(v, {2}));
  EXPECT_EQ(xv.shape(), nx::Shape({2, 3}));
  expect_close(nx::new_axis(xv, -1), la::triangular_solve(a, v), 1e-14);
  // A row vector on the right: x a = v is a^T x^T = v^T.
  nx::Tensor row = nx::squeeze(v, {2});
  expect_close(la::triangular_solve(a, row, {.left_side = false}),
               la::triangular_solve(a, row, {.transform_a = la::Transform::transpose}), 1e-14);
  // One vector (rank 1) for a batch of matrices.
  nx::Tensor one = nx::tensor({1.0, 2.0, 3.0}, nx::f64);
  expect_close(la::solve(a, one), la::solve(a, nx::broadcast(one, {2, 3})), 1e-14);
  // Batch dims broadcast: one a for a batch of b.
  nx::Tensor a0 = nx::slice(a, {0, 0, 0}, {1, 3, 3});
  expect_close(la::triangular_solve(nx::squeeze(a0, {0}), bl), la::triangular_solve(nx::concatenate({a0, a0}), bl),
               1e-14);
}

TEST(Linalg, SolveAndInvert) {
  nx::Tensor a = T(solve_a);
  expect_close(la::solve(a, T(solve_b)), solve_x, 1e-11);
  expect_close(la::solve(a, T(solve_v)), solve_xv, 1e-11);
  expect_close(la::solve(nx::as_type(a, nx::f32), T(solve_b, nx::f32)), solve_x, 1e-4, nx::f32);
  expect_close(la::invert(a), inv_a, 1e-11);
  expect_close(nx::matmul(a, la::invert(a)), nx::broadcast(nx::eye(3, nx::f64), {2, 3, 3}), 1e-12);
  // Mixed dtypes promote: f32 matrix, f64 rhs -> f64.
  EXPECT_EQ(la::solve(nx::as_type(a, nx::f32), T(solve_b)).dtype(), nx::f64);
  // Integer input computes in f32.
  auto x = la::solve(nx::tensor({{2, 0}, {0, 4}}), nx::tensor({2, 2}));
  EXPECT_EQ(x.dtype(), nx::f32);
  EXPECT_EQ(x.to_vector<float>(), (std::vector<float>{1, 0.5f}));
}

TEST(Linalg, SingularSolveGivesNonFinite) {
  auto s = nx::tensor({{1.0, 2.0}, {2.0, 4.0}}, nx::f64);
  for (double v : la::solve(s, nx::tensor({1.0, 1.0}, nx::f64)).to_vector<double>()) EXPECT_FALSE(std::isfinite(v));
  for (double v : la::invert(s).to_vector<double>()) EXPECT_FALSE(std::isfinite(v));
  auto zero_diag = nx::tensor({{1.0, 0.0}, {3.0, 0.0}}, nx::f64);
  auto t = la::triangular_solve(zero_diag, nx::tensor({1.0, 1.0}, nx::f64)).to_vector<double>();
  EXPECT_EQ(t[0], 1.0);
  EXPECT_FALSE(std::isfinite(t[1]));
  EXPECT_EQ(la::determinant(s).item<double>(), 0.0);
}

TEST(Linalg, Determinant) {
  expect_close(la::determinant(T(solve_a)), det_a, 1e-11);
  expect_close(la::determinant(T(det4_a)), det4, 1e-11);
  expect_close(la::determinant(T(det4_a, nx::f32)), det4, 1e-5, nx::f32);
  auto near_singular = nx::tensor({{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}, {7.0, 8.0, 9.0}}, nx::f64);
  EXPECT_NEAR(la::determinant(near_singular).item<double>(), 0.0, 1e-12);
  EXPECT_DOUBLE_EQ(la::determinant(nx::tensor({{0.0, 1.0}, {1.0, 0.0}}, nx::f64)).item<double>(), -1.0);
  EXPECT_EQ(la::determinant(nx::zeros({4, 2, 2})).shape(), nx::Shape({4}));
}

TEST(Linalg, QrMatchesLapackSigns) {
  nx::Tensor a = T(qr_a);
  auto [q, r] = la::qr(a);
  expect_close(q, qr_q, 1e-12);
  expect_close(r, qr_r, 1e-12);
  auto [qc, rc] = la::qr(a, {.mode = la::QrMode::complete});
  expect_close(qc, qr_qc, 1e-12);
  expect_close(rc, qr_rc, 1e-12);
  expect_close(nx::matmul(qc, rc), a, 1e-12);
  auto [qw, rw] = la::qr(T(qr_w));
  expect_close(qw, qr_wq, 1e-12);
  expect_close(rw, qr_wr, 1e-12);
  auto [q32, r32] = la::qr(nx::as_type(a, nx::f32));
  expect_close(q32, qr32_q, 1e-5, nx::f32);
  expect_close(r32, qr32_r, 1e-5, nx::f32);
}

TEST(Linalg, EighAscendingWithSignConvention) {
  auto [w, v] = la::eigh(T(eigh_a));
  expect_close(w, eigh_w, 1e-12);
  expect_close(v, eigh_v, 1e-10);
  // Reconstruction from the lower triangle: v diag(w) v^T == the symmetric matrix.
  nx::Tensor rec = nx::matmul(v * nx::new_axis(w, -2), mT(v));
  nx::Tensor lower = nx::select(nx::iota({4, 4}, nx::i64, 0) >= nx::iota({4, 4}, nx::i64, 1), rec, 0.0);
  nx::Tensor a_lower = nx::select(nx::iota({4, 4}, nx::i64, 0) >= nx::iota({4, 4}, nx::i64, 1), T(eigh_a), 0.0);
  expect_close(lower, a_lower, 1e-12);
  auto [w32, v32] = la::eigh(T(eigh_a, nx::f32));
  expect_close(w32, eigh_w, 1e-5, nx::f32);
  expect_close(v32, eigh_v, 1e-4, nx::f32);
  // Ties within rounding: (1, -1)/sqrt(2) has its first entry positive.
  auto [w2, v2] = la::eigh(nx::tensor({{2.0, 1.0}, {1.0, 2.0}}, nx::f64));
  auto vv = v2.to_vector<double>();
  EXPECT_GT(vv[0], 0);
  EXPECT_GT(vv[1], 0);
}

TEST(Linalg, EighOfTheLargestOnlyEqualsTheFullOnesTail) {
  // 64 x 64 (LAPACK's partial path where OpenBLAS loads; else the full one, sliced), batched.
  nx::Tensor r = nx::random::normal(nx::random::key(3), {2, 64, 64}, {.dtype = nx::f64});
  nx::Tensor a = nx::matmul(r, mT(r)) + 0.5 * nx::eye(64, nx::f64);
  for (nx::DType t : {nx::f64, nx::f32}) {
    SCOPED_TRACE(std::string(nx::name(t)));
    nx::Tensor at = nx::as_type(a, t);
    auto [w, v] = la::eigh(at);
    auto [wk, vk] = la::eigh(at, {.largest = 5});
    ASSERT_EQ(wk.shape(), nx::Shape({2, 5}));
    ASSERT_EQ(vk.shape(), nx::Shape({2, 64, 5}));
    double tol = t == nx::f64 ? 1e-9 : 2e-3;
    EXPECT_EQ(wk.dtype(), t);
    expect_close(wk, nx::slice(w, {0, 59}, {2, 5}), tol);
    expect_close(vk, nx::slice(v, {0, 0, 59}, {2, 64, 5}), t == nx::f64 ? 1e-9 : 1e-2);
  }
  auto [w_all, v_all] = la::eigh(a, {.largest = 64});  // all: the full decomposition
  EXPECT_EQ(v_all.shape(), nx::Shape({2, 64, 64}));
  nx_test::expect_op_error<nx::ValueError>([&] { la::eigh(a, {.largest = 65}); }, "eigh", "largest must be between");
  nx_test::expect_error<nx::Error>(
      [&] { nx::grad([](const nx::Tensor& x) { return nx::sum(la::eigh(x, {.largest = 2}).first); })(a); },
      "no gradient when only the largest");
}

TEST(Linalg, SvdFullAndThin) {
  nx::Tensor a = T(svd_a);
  struct Case {
    nx::Tensor a;
    bool full;
    const G &u, &s, &vt;
  } cases[] = {{a, true, svd_f_u, svd_f_s, svd_f_vt},
               {a, false, svd_t_u, svd_t_s, svd_t_vt},
               {T(svd_wide), true, svd_wf_u, svd_wf_s, svd_wf_vt},
               {T(svd_wide), false, svd_wt_u, svd_wt_s, svd_wt_vt}};
  int i = 0;
  for (const Case& c : cases) {
    SCOPED_TRACE(i++);
    auto [u, s, vt] = la::svd(c.a, {.full_matrices = c.full});
    expect_close(s, c.s, 1e-12);
    int64_t m = c.a.dim(-2), n = c.a.dim(-1), k = std::min(m, n);
    ASSERT_EQ(u.shape(), nx::Shape(c.u.shape));
    ASSERT_EQ(vt.shape(), nx::Shape(c.vt.shape));
    // The vectors of the singular values are unique up to sign (fixed by the convention);
    // full_matrices' extra ones span a null space: any orthonormal basis will do.
    expect_close(nx::slice_along_axis(u, -1, 0, k), nx::slice_along_axis(T(c.u), -1, 0, k), 1e-10);
    expect_close(nx::slice_along_axis(vt, -2, 0, k), nx::slice_along_axis(T(c.vt), -2, 0, k), 1e-10);
    expect_close(nx::matmul(mT(u), u), nx::eye(u.dim(-1), nx::f64) + nx::zeros_like(nx::matmul(mT(u), u)), 1e-12);
    expect_close(nx::matmul(vt, mT(vt)), nx::eye(vt.dim(-2), nx::f64) + nx::zeros_like(nx::matmul(vt, mT(vt))), 1e-12);
    auto [ut, st, vtt] = la::svd(c.a, {.full_matrices = false});
    expect_close(nx::matmul(ut * nx::new_axis(st, -2), vtt), c.a, 1e-12);
  }
  auto [u32, s32, vt32] = la::svd(nx::as_type(a, nx::f32), {.full_matrices = false});
  expect_close(s32, svd_t_s, 1e-5, nx::f32);
  expect_close(u32, svd_t_u, 1e-4, nx::f32);
}

TEST(Linalg, LuMatchesScipy) {
  struct Case {
    const G &a, &p, &l, &u;
  } cases[] = {{lu_sq_a, lu_sq_p, lu_sq_l, lu_sq_u},
               {lu_tall_a, lu_tall_p, lu_tall_l, lu_tall_u},
               {lu_wide_a, lu_wide_p, lu_wide_l, lu_wide_u}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.a.shape.size());
    auto [p, l, u] = la::lu(T(c.a));
    expect_close(p, c.p, 0);
    expect_close(l, c.l, 1e-12);
    expect_close(u, c.u, 1e-12);
    expect_close(nx::matmul(p, nx::matmul(l, u)), T(c.a), 1e-12);
    auto [p32, l32, u32] = la::lu(T(c.a, nx::f32));
    expect_close(p32, c.p, 0, nx::f32);
    expect_close(u32, c.u, 1e-5, nx::f32);
  }
  // Singular: a valid factorisation with a zero pivot.
  auto [p, l, u] = la::lu(nx::tensor({{1.0, 2.0}, {2.0, 4.0}}, nx::f64));
  EXPECT_EQ(u.to_vector<double>(), (std::vector<double>{2, 4, 0, 0}));
  EXPECT_EQ(l.to_vector<double>(), (std::vector<double>{1, 0, 0.5, 1}));
}

TEST(Linalg, LeastSquares) {
  nx::Tensor a = T(lsq_a);
  expect_close(la::least_squares(a, T(lsq_b)), lsq_x, 1e-11);
  expect_close(la::least_squares(a, T(lsq_v)), lsq_xv, 1e-11);
  expect_close(la::least_squares(T(lsq_def_a), T(lsq_def_b)), lsq_def_x, 1e-10);
  expect_close(la::least_squares(T(lsq_under_a), T(lsq_under_b)), lsq_under_x, 1e-11);
  expect_close(la::least_squares(nx::as_type(a, nx::f32), T(lsq_b, nx::f32)), lsq_x, 1e-4, nx::f32);
}

TEST(Linalg, VectorNorms) {
  nx::Tensor v = T(norm_v);
  expect_close(la::norm(v), norm_v_none, 1e-14);
  std::pair<la::Ord, const G*> cases[] = {{1, &norm_v_1},      {2, &norm_v_2},         {la::inf, &norm_v_inf},
                                          {-la::inf, &norm_v_neg_inf}, {0, &norm_v_0}, {3, &norm_v_3},
                                          {0.5, &norm_v_half}, {-1, &norm_v_neg1}};
  for (auto& [ord, want] : cases) {
    SCOPED_TRACE(ord.p);
    expect_close(la::norm(v, {.ord = ord}), *want, 1e-13);
  }
  EXPECT_EQ(la::norm(nx::tensor({3, 4})).item<float>(), 5.0f);  // integers -> f32
  auto h = la::norm(nx::full({4}, 300.0, nx::f16));              // 300^2 overflows f16: summed in f32
  EXPECT_EQ(h.dtype(), nx::f16);
  EXPECT_EQ(h.item<float>(), 600.0f);
}

TEST(Linalg, MatrixNorms) {
  nx::Tensor m = T(norm_m);
  std::pair<std::optional<la::Ord>, const G*> cases[] = {
      {std::nullopt, &norm_m_none}, {la::fro, &norm_m_fro}, {la::nuc, &norm_m_nuc}, {1, &norm_m_1},
      {-1, &norm_m_neg1},           {2, &norm_m_2},         {-2, &norm_m_neg2},     {la::inf, &norm_m_inf},
      {-la::inf, &norm_m_neg_inf}};
  int i = 0;
  for (auto& [ord, want] : cases) {
    SCOPED_TRACE(i++);
    expect_close(la::norm(m, {.ord = ord}), *want, 1e-12);
  }
  nx::Tensor t = T(norm_t);
  expect_close(la::norm(t), norm_t_all, 1e-13);
  expect_close(la::norm(t, {.axes = 1}), norm_t_ax1, 1e-13);
  expect_close(la::norm(t, {.ord = la::inf, .axes = 1, .keep_axes = true}), norm_t_ax1_inf_keep, 1e-13);
  expect_close(la::norm(t, {.ord = 1, .axes = {2, 1}}), norm_t_ax21_1, 1e-13);
  expect_close(la::norm(t, {.ord = 2, .axes = {0, 2}, .keep_axes = true}), norm_t_ax02_2_keep, 1e-12);
  expect_close(la::norm(t, {.ord = la::nuc, .axes = {1, 2}}), norm_t_ax12_nuc, 1e-12);
  expect_close(la::norm(nx::as_type(m, nx::f32), {.ord = 2}), norm_m_2, 1e-6, nx::f32);
}

TEST(Linalg, JitMatchesEager) {
  auto f = nx::jit([](const nx::Tensor& a, const nx::Tensor& b) {
    auto [q, r] = la::qr(a);
    auto [u, s, vt] = la::svd(a, {.full_matrices = false});
    auto [p, l, uu] = la::lu(a);
    return std::make_tuple(la::solve(a, b), la::determinant(a), q, s, l, la::norm(a, {.ord = 2, .axes = {1, 2}}));
  });
  nx::Tensor a = T(solve_a), b = T(solve_b);
  auto [x, d, q, s, l, n] = f(a, b);
  expect_close(x, la::solve(a, b), 0);
  expect_close(d, la::determinant(a), 0);
  expect_close(q, la::qr(a).first, 0);
  expect_close(s, std::get<1>(la::svd(a)), 0);
  expect_close(l, std::get<1>(la::lu(a)), 0);
  expect_close(n, la::norm(a, {.ord = 2, .axes = {1, 2}}), 0);
}

TEST(Linalg, HalfPrecisionAndEmptyBatches) {
  auto a = nx::tensor({{4.0, 2.0}, {2.0, 5.0}}, nx::bf16);
  auto l = la::cholesky(a);
  EXPECT_EQ(l.dtype(), nx::bf16);
  EXPECT_EQ(nx::as_type(l, nx::f32).to_vector<float>(), (std::vector<float>{2, 0, 1, 2}));
  EXPECT_EQ(la::determinant(nx::as_type(a, nx::f16)).item<float>(), 16.0f);
  // Zero matrices in the batch, and 0 x 0 matrices.
  EXPECT_EQ(la::cholesky(nx::zeros({0, 3, 3})).shape(), nx::Shape({0, 3, 3}));
  EXPECT_EQ(la::solve(nx::zeros({0, 2, 2}), nx::zeros({0, 2})).shape(), nx::Shape({0, 2}));
  EXPECT_EQ(la::determinant(nx::zeros({0, 0})).item<float>(), 1.0f);
  auto [q, r] = la::qr(nx::zeros({2, 0, 3}));
  EXPECT_EQ(q.shape(), nx::Shape({2, 0, 0}));
  EXPECT_EQ(r.shape(), nx::Shape({2, 0, 3}));
  auto [u, s, vt] = la::svd(nx::zeros({3, 0}));
  EXPECT_EQ(u.shape(), nx::Shape({3, 3}));
  EXPECT_EQ(s.shape(), nx::Shape({0}));
  EXPECT_EQ(vt.shape(), nx::Shape({0, 0}));
}

TEST(Linalg, NonFiniteInputsDoNotHang) {
  auto a = nx::tensor({{kNaN, 1.0}, {1.0, 2.0}}, nx::f64);
  auto [w, v] = la::eigh(a);
  for (double x : w.to_vector<double>()) EXPECT_TRUE(std::isnan(x));
  auto [u, s, vt] = la::svd(a);
  for (double x : s.to_vector<double>()) EXPECT_TRUE(std::isnan(x));
  EXPECT_TRUE(std::isnan(la::determinant(a).item<double>()));
}

TEST(Linalg, Errors) {
  expect_error<nx::ShapeError>([] { la::cholesky(nx::zeros({2, 3})); }, "[cholesky] expects a square matrix, got (2, 3)");
  expect_error<nx::ShapeError>([] { la::qr(nx::zeros({3})); }, "[qr] expects a matrix");
  expect_error<nx::DTypeError>([] { la::eigh(nx::zeros({2, 2}, nx::boolean)); }, "[eigh] expects a float or integer");
  expect_error<nx::ShapeError>([] { la::solve(nx::zeros({3, 3}), nx::zeros({2})); }, "[solve] expects b's rows");
  expect_error<nx::ShapeError>([] { la::solve(nx::zeros({2, 3, 3}), nx::zeros({4, 3, 1})); }, "[solve]");
  expect_error<nx::ShapeError>([] { la::triangular_solve(nx::zeros({3, 3}), nx::zeros({2, 3}), {.left_side = true}); },
                               "[triangular_solve] expects b's rows");
  expect_error<nx::ShapeError>([] { la::determinant(nx::zeros({2, 3})); }, "[determinant] expects a square matrix");
  expect_error<nx::ShapeError>([] { la::invert(nx::zeros({1, 2})); }, "[invert]");
  expect_error<nx::ShapeError>([] { la::least_squares(nx::zeros({4, 3}), nx::zeros({3})); }, "[least_squares]");
  expect_error<nx::ValueError>([] { la::norm(nx::zeros({3}), {.ord = la::fro}); }, "[norm] ord fro is a matrix norm");
  expect_error<nx::ValueError>([] { la::norm(nx::zeros({3, 3}), {.ord = 3}); }, "[norm] ord 3 is not a matrix norm");
  expect_error<nx::ShapeError>([] { la::norm(nx::zeros({2, 2, 2}), {.ord = 1}); }, "[norm] ord 1 needs 1 or 2 axes");
  expect_error<nx::AxisError>([] { la::norm(nx::zeros({2, 2, 2}), {.axes = {0, 1, 2}}); }, "[norm]");
  expect_error<nx::AxisError>([] { la::norm(nx::zeros({2, 2}), {.axes = {0, 0}}); }, "[norm]");
}

}  // namespace
