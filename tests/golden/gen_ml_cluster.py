#!/usr/bin/env python3
"""Golden values for tests/ml_cluster_test.cpp: scikit-learn's MiniBatchKMeans, DBSCAN and
GaussianMixture on its data sets. The C++ test reads the data from ml/<name>.npz (written by
gen_ml.py); "wine_std" and "breast_cancer_std" below are that x standardized on all of its
rows (StandardScaler().fit_transform(x)).

ml/cluster.npz:
MiniBatchKMeans, for (name, k, batch) in (iris 3 32), (wine_std 3 32), (digits 10 256):
  mbkm/<name>/kmeans_inertia     KMeans(k, n_init=10, random_state=0).inertia_ (Lloyd's
                                 optimum, the yardstick)
  mbkm/<name>/kmeans_labels      its labels_
  mbkm/<name>/inertias           MiniBatchKMeans(k, batch_size=batch, n_init=3,
                                 random_state=s).inertia_ for s = 0 .. 19: the spread of
                                 scikit-learn's own results over its random streams
  mbkm/iris_small_batches/{kmeans_inertia,inertias}
                                 the same with k 8, batch 16, init="random", n_init=1:
                                 the regime where centres starve and get reassigned
DBSCAN(eps, min_samples) for each case <c> of DBSCAN_CASES:
  dbscan/<c>/params              [eps, min_samples]
  dbscan/<c>/labels              labels_ (int64)
  dbscan/<c>/core                core_sample_indices_ (int64)
  dbscan/<c>/contested           border samples within eps of core samples of two or more
                                 clusters (where scikit-learn's expansion order decides)
  dbscan/<c>/ties                pairs (i < j) whose distance is within 1e-9 of eps (where
                                 rounding decides)
GaussianMixture(k, covariance_type, tol, max_iter=1000) for each case <c> of GMM_CASES,
started from given parameters: those of scikit-learn's own k-means start (a fit with
max_iter=0, random_state=0), passed back as weights_init, means_init, precisions_init:
  gmm/<c>/params                       [k, tol]
  gmm/<c>/weights_init, means_init, precisions_init
  gmm/<c>/{weights,means,covariances,precisions,precisions_cholesky}   the fitted state
  gmm/<c>/{lower_bound,n_iter,converged}
  gmm/<c>/{proba,score_samples,predict}   predict_proba, score_samples, predict on x
  gmm/<c>/{score,bic,aic}                 on x
GaussianMixture(3) with its default k-means start (random_state=0) on iris:
  gmm_default/iris/{lower_bound,predict}

Written with numpy 2.4 and scikit-learn 1.9; a rerun writes the same bytes:
  python3 -m venv .venv && .venv/bin/pip install numpy scipy scikit-learn
  .venv/bin/python tests/golden/gen_ml_cluster.py
"""
import os
import warnings

import numpy as np
import sklearn
from scipy.spatial.distance import cdist
from sklearn import cluster, mixture, preprocessing

import ml_datasets
from npz_writer import save_npz

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ml", "cluster.npz")

DBSCAN_CASES = {  # name: (data, eps, min_samples)
    "iris_0.5": ("iris", 0.5, 5),              # scikit-learn's defaults; 38 pairs at eps
    "iris_0.4": ("iris", 0.4, 5),              # a contested border sample
    "wine_std_2.0": ("wine_std", 2.0, 5),      # 5 clusters, a contested border sample
    "digits_21": ("digits", 21.0, 5),          # 22 clusters, 10 contested
    "breast_cancer_std_2.0": ("breast_cancer_std", 2.0, 5),
}
GMM_CASES = {  # name: (data, k, covariance_type, tol)
    "iris_full": ("iris", 3, "full", 1e-8),
    "iris_diag": ("iris", 3, "diag", 1e-8),
    "iris_tied": ("iris", 3, "tied", 1e-8),
    "iris_spherical": ("iris", 3, "spherical", 1e-8),
    "iris_full_tol": ("iris", 3, "full", 1e-3),
    "wine_std_full": ("wine_std", 3, "full", 1e-8),
    "wine_std_diag": ("wine_std", 3, "diag", 1e-8),
    "digits_diag": ("digits", 10, "diag", 1e-3),
}


def load(name):
    x = ml_datasets.load(name.removesuffix("_std"))[0]
    return preprocessing.StandardScaler().fit_transform(x) if name.endswith("_std") else x


out = {}
for name, k, batch in (("iris", 3, 32), ("wine_std", 3, 32), ("digits", 10, 256)):
    x = load(name)
    km = cluster.KMeans(n_clusters=k, n_init=10, random_state=0).fit(x)
    out[f"mbkm/{name}/kmeans_inertia"] = km.inertia_
    out[f"mbkm/{name}/kmeans_labels"] = np.asarray(km.labels_, np.int64)
    out[f"mbkm/{name}/inertias"] = [
        cluster.MiniBatchKMeans(n_clusters=k, batch_size=batch, n_init=3, random_state=s).fit(x).inertia_
        for s in range(20)]
x = load("iris")
out["mbkm/iris_small_batches/kmeans_inertia"] = cluster.KMeans(n_clusters=8, n_init=10, random_state=0).fit(x).inertia_
out["mbkm/iris_small_batches/inertias"] = [
    cluster.MiniBatchKMeans(n_clusters=8, batch_size=16, init="random", n_init=1, random_state=s).fit(x).inertia_
    for s in range(20)]

for case, (name, eps, min_samples) in DBSCAN_CASES.items():
    x = load(name)
    db = cluster.DBSCAN(eps=eps, min_samples=min_samples).fit(x)
    near = cdist(x, x) <= eps
    core = np.zeros(len(x), bool)
    core[db.core_sample_indices_] = True
    contested = sum(len(set(db.labels_[near[i] & core])) > 1 for i in np.flatnonzero(~core))
    gaps = np.abs(cdist(x, x) - eps)
    out.update({f"dbscan/{case}/params": [eps, min_samples], f"dbscan/{case}/labels": np.asarray(db.labels_, np.int64),
                f"dbscan/{case}/core": np.asarray(db.core_sample_indices_, np.int64),
                f"dbscan/{case}/contested": contested,
                f"dbscan/{case}/ties": int(np.triu(gaps < 1e-9, 1).sum())})

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # max_iter=0 warns that the start did not converge
    for case, (name, k, cov, tol) in GMM_CASES.items():
        x = load(name)
        start = mixture.GaussianMixture(k, covariance_type=cov, max_iter=0, random_state=0).fit(x)
        g = mixture.GaussianMixture(k, covariance_type=cov, tol=tol, max_iter=1000, weights_init=start.weights_,
                                    means_init=start.means_, precisions_init=start.precisions_).fit(x)
        p = f"gmm/{case}/"
        out.update({p + "params": [k, tol], p + "weights_init": start.weights_, p + "means_init": start.means_,
                    p + "precisions_init": start.precisions_, p + "weights": g.weights_, p + "means": g.means_,
                    p + "covariances": g.covariances_, p + "precisions": g.precisions_,
                    p + "precisions_cholesky": g.precisions_cholesky_, p + "lower_bound": g.lower_bound_,
                    p + "n_iter": g.n_iter_, p + "converged": g.converged_, p + "proba": g.predict_proba(x),
                    p + "score_samples": g.score_samples(x), p + "predict": np.asarray(g.predict(x), np.int64),
                    p + "score": g.score(x), p + "bic": g.bic(x), p + "aic": g.aic(x)})
g = mixture.GaussianMixture(3, random_state=0).fit(load("iris"))
out.update({"gmm_default/iris/lower_bound": g.lower_bound_,
            "gmm_default/iris/predict": np.asarray(g.predict(load("iris")), np.int64)})

out = {k: np.asarray(v, np.int64) if isinstance(v, (bool, np.bool_, int, np.integer)) else
       np.asarray(v, np.float64) if np.ndim(v) == 0 or isinstance(v, list) else np.asarray(v) for k, v in out.items()}
save_npz(OUT, out)
print(f"{len(out)} arrays, {os.path.getsize(OUT)} bytes; scikit-learn", sklearn.__version__, "numpy", np.__version__)
for case in DBSCAN_CASES:
    print(case, "clusters", out[f"dbscan/{case}/labels"].max() + 1, "contested", out[f"dbscan/{case}/contested"],
          "ties", out[f"dbscan/{case}/ties"])
