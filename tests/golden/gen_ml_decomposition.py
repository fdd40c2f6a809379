#!/usr/bin/env python3
"""Golden values for tests/ml_decomposition_neighbors_test.cpp: scikit-learn's randomized PCA,
TruncatedSVD, KDTree, k-nearest neighbours on raw digits and MultinomialNB, on its own
data sets. Only reference outputs are stored here; the C++ test reads the data (x, y and
the train/test split) from tests/golden/ml/<name>.npz, written by gen_ml.py.

ml/decomposition.npz, every key prefixed by the data set's name (<name>/...); "train" and
"test" are x[train] and x[test] of that file's split (train_test_split(test_size=0.25,
random_state=0)):
  digits/pca_randomized/{components,explained_variance,explained_variance_ratio,
                         singular_values}
                              PCA(10, svd_solver="randomized", random_state=0) on train
                              (n_iter "auto": 4, LU-normalised power iterations)
  breast_cancer/pca_randomized/{same}
                              the same with 5 components (n_iter "auto": 7)
  digits/pca_wide/{explained_variance,explained_variance_ratio}
                              PCA(10, random_state=0) on train.T [64, 1347], a wide
                              matrix where svd_solver="auto" picks "randomized"
  digits/pca_wide_full/{components,explained_variance,mean}
                              PCA(10, svd_solver="full") on train.T, the exact reference
                              (components: the first 5 rows only, for size)
  <name>/tsvd_arpack/{components,explained_variance,explained_variance_ratio,
                      singular_values,out}
                              TruncatedSVD(k, algorithm="arpack", random_state=0) (tol 0:
                              exact to rounding) on train, out = transform(test); k 2 for
                              iris, 10 for digits, else 5 (all five sets)
  <name>/tsvd_randomized/{components,explained_variance,explained_variance_ratio,
                          singular_values}
                              TruncatedSVD(k, random_state=0) (randomized, n_iter=5)
  <name>/kdtree/{dist,ind}    the 5 nearest train rows (indices into train) of each test
                              row, Euclidean, from KDTree(train).query(test, k=len(train))
                              re-sorted by (distance, index) and cut to 5: the k nearest
                              with ties broken by the smaller index (iris, wine, diabetes)
  <name>/kdtree/radius        r = the median of dist[:, 4]
  <name>/kdtree/{radius_count,radius_dist,radius_ind}
                              KDTree(train).query_radius(test, r, return_distance=True):
                              per test row the count, and all rows' neighbours
                              concatenated, each row's sorted by (distance, index)
  digits/knn_raw/{pred,proba} KNeighborsClassifier(5) fitted on the raw (unscaled) train
                              pixels, integer-valued with many tied distances, on test
  <name>/mnb/{class_count,feature_count,class_log_prior,feature_log_prob,jll,proba,
              log_proba,pred}
                              MultinomialNB() fitted on train (raw, non-negative); jll =
                              predict_joint_log_proba(test), the rest on test
                              (iris, wine, digits)
  <name>/mnb_alpha/{feature_log_prob,class_log_prior,proba,pred}
                              MultinomialNB(alpha=0.5, fit_prior=False)
  <name>/mnb_prior/{class_prior,class_log_prior,proba,pred}
                              MultinomialNB(class_prior=p), p = 1..k normalised
                              (digits: no mnb_alpha/proba, mnb_prior/proba, for size)

Written with numpy 2.4 and scikit-learn 1.9; a rerun writes the same bytes:
  python3 -m venv .venv && .venv/bin/pip install numpy scikit-learn
  .venv/bin/python tests/golden/gen_ml_decomposition.py
"""
import os

import numpy as np
import sklearn
from sklearn import decomposition, naive_bayes, neighbors

import ml_datasets
from npz_writer import save_npz

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ml")
K = {"iris": 2, "digits": 10}


def pca_state(out, key, p, names=("components", "explained_variance", "explained_variance_ratio", "singular_values")):
    for n in names:
        out[f"{key}/{n}"] = getattr(p, n + "_")


def by_distance_then_index(dist, ind):
    order = np.lexsort((ind, dist))
    return dist[order], ind[order]


def kdtree(out, name, xtr, xte):
    tree = neighbors.KDTree(xtr)
    dist, ind = tree.query(xte, k=len(xtr))
    near = [by_distance_then_index(d, i) for d, i in zip(dist, ind)]
    dist = np.stack([d[:5] for d, _ in near])
    ind = np.stack([i[:5] for _, i in near]).astype(np.int64)
    r = float(np.median(dist[:, 4]))
    rind, rdist = tree.query_radius(xte, r, return_distance=True)
    rows = [by_distance_then_index(d, i) for d, i in zip(rdist, rind)]
    out.update({f"{name}/kdtree/dist": dist, f"{name}/kdtree/ind": ind, f"{name}/kdtree/radius": r,
                f"{name}/kdtree/radius_count": np.array([len(i) for i in rind], np.int64),
                f"{name}/kdtree/radius_dist": np.concatenate([d for d, _ in rows]),
                f"{name}/kdtree/radius_ind": np.concatenate([i for _, i in rows]).astype(np.int64)})


def multinomial(out, name, xtr, ytr, xte):
    m = naive_bayes.MultinomialNB().fit(xtr, ytr)
    out.update({f"{name}/mnb/class_count": m.class_count_, f"{name}/mnb/feature_count": m.feature_count_,
                f"{name}/mnb/class_log_prior": m.class_log_prior_, f"{name}/mnb/feature_log_prob": m.feature_log_prob_,
                f"{name}/mnb/jll": m.predict_joint_log_proba(xte), f"{name}/mnb/proba": m.predict_proba(xte),
                f"{name}/mnb/log_proba": m.predict_log_proba(xte), f"{name}/mnb/pred": np.asarray(m.predict(xte), np.int64)})
    m = naive_bayes.MultinomialNB(alpha=0.5, fit_prior=False).fit(xtr, ytr)
    out.update({f"{name}/mnb_alpha/feature_log_prob": m.feature_log_prob_,
                f"{name}/mnb_alpha/class_log_prior": m.class_log_prior_,
                f"{name}/mnb_alpha/pred": np.asarray(m.predict(xte), np.int64)})
    if name != "digits":
        out[f"{name}/mnb_alpha/proba"] = m.predict_proba(xte)
    k = len(np.unique(ytr))
    prior = np.arange(1, k + 1, dtype=np.float64)
    prior /= prior.sum()
    m = naive_bayes.MultinomialNB(class_prior=prior).fit(xtr, ytr)
    out.update({f"{name}/mnb_prior/class_prior": prior, f"{name}/mnb_prior/class_log_prior": m.class_log_prior_,
                f"{name}/mnb_prior/pred": np.asarray(m.predict(xte), np.int64)})
    if name != "digits":
        out[f"{name}/mnb_prior/proba"] = m.predict_proba(xte)


out = {}
for name in ml_datasets.NAMES:
    x, y, train, test = ml_datasets.load(name)
    xtr, xte, ytr = x[train], x[test], y[train]
    k = K.get(name, 5)
    if name in ("digits", "breast_cancer"):
        p = decomposition.PCA(k, svd_solver="randomized", random_state=0).fit(xtr)
        pca_state(out, f"{name}/pca_randomized", p)
    if name == "digits":
        p = decomposition.PCA(k, random_state=0).fit(xtr.T)
        assert p._fit_svd_solver == "randomized"
        pca_state(out, "digits/pca_wide", p, ("explained_variance", "explained_variance_ratio"))
        p = decomposition.PCA(k, svd_solver="full").fit(xtr.T)
        pca_state(out, "digits/pca_wide_full", p, ("explained_variance", "mean"))
        out["digits/pca_wide_full/components"] = p.components_[:5]  # 5 of 10 rows keep the file small
    t = decomposition.TruncatedSVD(k, algorithm="arpack", random_state=0).fit(xtr)
    pca_state(out, f"{name}/tsvd_arpack", t)
    out[f"{name}/tsvd_arpack/out"] = t.transform(xte)
    t = decomposition.TruncatedSVD(k, random_state=0).fit(xtr)
    pca_state(out, f"{name}/tsvd_randomized", t)
    if name in ("iris", "wine", "diabetes"):
        kdtree(out, name, xtr, xte)
    if name == "digits":
        knn = neighbors.KNeighborsClassifier(5).fit(xtr, ytr)
        out.update({"digits/knn_raw/pred": np.asarray(knn.predict(xte), np.int64),
                    "digits/knn_raw/proba": knn.predict_proba(xte)})
    if name in ("iris", "wine", "digits"):
        multinomial(out, name, xtr, ytr, xte)

out = {k: np.asarray(v, np.float64) if np.ndim(v) == 0 else np.asarray(v) for k, v in out.items()}
os.makedirs(OUT, exist_ok=True)
path = os.path.join(OUT, "decomposition.npz")
save_npz(path, out)
print(f"{len(out)} arrays, {os.path.getsize(path)} bytes")
print("scikit-learn", sklearn.__version__, "numpy", np.__version__)
