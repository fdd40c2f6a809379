#!/usr/bin/env python3
"""Golden values for tests/ml_test.cpp: scikit-learn's data sets and its estimators' fitted
state and outputs on them, so the C++ tests compare nx::ml against scikit-learn without
Python.

ml/<name>.npz for iris, wine, breast_cancer, diabetes and digits (shipped with
scikit-learn; data no one here wrote):
  x, y            the data (x f64; y int64 class ids, f64 for diabetes)
  train, test     row indices of scikit-learn's train_test_split(test_size=0.25,
                  random_state=0), the split shared/TARGETS.md's reference scores use
and, fitted on x[train] and applied to x[test]:
  standard/{mean,var,scale,out}         StandardScaler()
  standard_no_mean/{scale,out}          StandardScaler(with_mean=False)
  minmax/{min,max,out}                  MinMaxScaler()
  minmax_range/out                      MinMaxScaler(feature_range=(-1, 2))
  maxabs/{max_abs,out}                  MaxAbsScaler()
  robust/{center,scale,out}             RobustScaler()
  robust_10_90/{center,scale,out}       RobustScaler(quantile_range=(10, 90))
  normalizer_{l1,l2,max}/out            Normalizer(norm)
  imputer/x_nan                         x with 10% of its entries NaN (rng seed 0)
  imputer_{mean,median,most_frequent}/{statistics,out}
                                        SimpleImputer(strategy) fitted on x_nan[train],
                                        applied to x_nan[test]
  pca/{components,explained_variance,explained_variance_ratio,singular_values,mean,out}
                                        PCA(k, svd_solver="full"): k 2 for iris, 10 for
                                        digits, else 5
  pca_whiten/out                        the same with whiten=True
  kmeans/{centers,labels,inertia}       KMeans(k, n_init=10, random_state=0) on all of x,
                                        k 3 for iris, 10 for digits (those two only)
Classification (iris, wine, breast_cancer, digits), on x[train] standardized as above:
  logistic/{coef,intercept,proba,accuracy}   LogisticRegression(C=1) with tol 1e-12
                                             (lbfgs's relative-decrease stop still
                                             leaves ~1e-6 in flat directions); proba
                                             and accuracy on x[test]
  logistic_c01/{coef,intercept}              the same with C=0.1
  metrics/{log_loss,roc_auc}                 log_loss(y[test], proba) and roc_auc_score
                                             (binary: the positive class's probability;
                                             else multi_class="ovr", macro)
  metrics/silhouette                         silhouette_score(x, kmeans labels) (iris,
                                             digits)
  knn/{pred,proba,accuracy}                  KNeighborsClassifier(5) on x[test]
  gnb/{mean,var,pred,proba,accuracy}         GaussianNB() on x[test]
  (diabetes) knn_regressor/pred              KNeighborsRegressor(5) on x[test]
Regression (diabetes), on x[train] standardized as above, scored on x[test]:
  linear/{coef,intercept,pred,r2,mse,mae}            LinearRegression()
  linear_no_intercept/{coef,pred}                    LinearRegression(fit_intercept=False)
  linear_weighted/{weights,coef,intercept,pred}      LinearRegression() with sample weights
  ridge/{coef,intercept,pred,r2}                     Ridge(alpha=1.0)
  ridge_no_intercept/{coef,pred}                     Ridge(alpha=1.0, fit_intercept=False)
  ridge_weighted/{coef,intercept,pred}               Ridge(alpha=1.0) with the same weights
  ridge_multi/{y,coef,intercept,pred}                Ridge(alpha=10.0) on two targets

Written with numpy 2.4 and scikit-learn 1.9; a rerun writes the same bytes:
  python3 -m venv .venv && .venv/bin/pip install numpy scikit-learn
  .venv/bin/python tests/golden/gen_ml.py
"""
import os

import numpy as np
import sklearn
from sklearn import (cluster, decomposition, impute, linear_model, metrics, naive_bayes, neighbors,
                     preprocessing)

import ml_datasets
from npz_writer import save_npz

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ml")


def scalers(out, xtr, xte):
    s = preprocessing.StandardScaler().fit(xtr)
    out.update({"standard/mean": s.mean_, "standard/var": s.var_, "standard/scale": s.scale_,
                "standard/out": s.transform(xte)})
    s = preprocessing.StandardScaler(with_mean=False).fit(xtr)
    out.update({"standard_no_mean/scale": s.scale_, "standard_no_mean/out": s.transform(xte)})
    s = preprocessing.MinMaxScaler().fit(xtr)
    out.update({"minmax/min": s.data_min_, "minmax/max": s.data_max_, "minmax/out": s.transform(xte)})
    out["minmax_range/out"] = preprocessing.MinMaxScaler(feature_range=(-1, 2)).fit(xtr).transform(xte)
    s = preprocessing.MaxAbsScaler().fit(xtr)
    out.update({"maxabs/max_abs": s.max_abs_, "maxabs/out": s.transform(xte)})
    for name, q in (("robust", (25.0, 75.0)), ("robust_10_90", (10.0, 90.0))):
        s = preprocessing.RobustScaler(quantile_range=q).fit(xtr)
        out.update({f"{name}/center": s.center_, f"{name}/scale": s.scale_, f"{name}/out": s.transform(xte)})
    for norm in ("l1", "l2", "max"):
        out[f"normalizer_{norm}/out"] = preprocessing.Normalizer(norm=norm).fit(xtr).transform(xte)


def pca(out, k, xtr, xte):
    p = decomposition.PCA(n_components=k, svd_solver="full").fit(xtr)
    out.update({"pca/components": p.components_, "pca/explained_variance": p.explained_variance_,
                "pca/explained_variance_ratio": p.explained_variance_ratio_, "pca/singular_values": p.singular_values_,
                "pca/mean": p.mean_, "pca/out": p.transform(xte)})
    p = decomposition.PCA(n_components=k, svd_solver="full", whiten=True).fit(xtr)
    out["pca_whiten/out"] = p.transform(xte)


def classification(out, xtr, ytr, xte, yte):
    scaler = preprocessing.StandardScaler().fit(xtr)
    xtr, xte = scaler.transform(xtr), scaler.transform(xte)
    knn = neighbors.KNeighborsClassifier(5).fit(xtr, ytr)
    out.update({"knn/pred": np.asarray(knn.predict(xte), np.int64), "knn/proba": knn.predict_proba(xte),
                "knn/accuracy": knn.score(xte, yte)})
    gnb = naive_bayes.GaussianNB().fit(xtr, ytr)
    out.update({"gnb/mean": gnb.theta_, "gnb/var": gnb.var_, "gnb/pred": np.asarray(gnb.predict(xte), np.int64),
                "gnb/proba": gnb.predict_proba(xte), "gnb/accuracy": gnb.score(xte, yte)})
    for key, c in (("logistic", 1.0), ("logistic_c01", 0.1)):
        m = linear_model.LogisticRegression(C=c, tol=1e-12, max_iter=100000).fit(xtr, ytr)
        out.update({f"{key}/coef": m.coef_, f"{key}/intercept": m.intercept_})
        if key == "logistic":
            proba = m.predict_proba(xte)
            out.update({"logistic/proba": proba, "logistic/accuracy": m.score(xte, yte),
                        "metrics/log_loss": metrics.log_loss(yte, proba),
                        "metrics/roc_auc": metrics.roc_auc_score(yte, proba[:, 1]) if proba.shape[1] == 2
                        else metrics.roc_auc_score(yte, proba, multi_class="ovr")})


def regression(out, xtr, ytr, xte, yte):
    scaler = preprocessing.StandardScaler().fit(xtr)
    xtr, xte = scaler.transform(xtr), scaler.transform(xte)
    out["knn_regressor/pred"] = neighbors.KNeighborsRegressor(5).fit(xtr, ytr).predict(xte)
    weights = np.random.default_rng(0).uniform(0.5, 2.0, size=len(xtr))
    out["linear_weighted/weights"] = weights
    m = linear_model.LinearRegression().fit(xtr, ytr)
    pred = m.predict(xte)
    out.update({"linear/coef": m.coef_, "linear/intercept": m.intercept_, "linear/pred": pred,
                "linear/r2": metrics.r2_score(yte, pred), "linear/mse": metrics.mean_squared_error(yte, pred),
                "linear/mae": metrics.mean_absolute_error(yte, pred)})
    m = linear_model.LinearRegression(fit_intercept=False).fit(xtr, ytr)
    out.update({"linear_no_intercept/coef": m.coef_, "linear_no_intercept/pred": m.predict(xte)})
    m = linear_model.LinearRegression().fit(xtr, ytr, sample_weight=weights)
    out.update({"linear_weighted/coef": m.coef_, "linear_weighted/intercept": m.intercept_,
                "linear_weighted/pred": m.predict(xte)})
    m = linear_model.Ridge(alpha=1.0).fit(xtr, ytr)
    pred = m.predict(xte)
    out.update({"ridge/coef": m.coef_, "ridge/intercept": m.intercept_, "ridge/pred": pred,
                "ridge/r2": metrics.r2_score(yte, pred)})
    m = linear_model.Ridge(alpha=1.0, fit_intercept=False).fit(xtr, ytr)
    out.update({"ridge_no_intercept/coef": m.coef_, "ridge_no_intercept/pred": m.predict(xte)})
    m = linear_model.Ridge(alpha=1.0).fit(xtr, ytr, sample_weight=weights)
    out.update({"ridge_weighted/coef": m.coef_, "ridge_weighted/intercept": m.intercept_,
                "ridge_weighted/pred": m.predict(xte)})
    y2 = np.stack([ytr, np.log(ytr)], axis=1)
    m = linear_model.Ridge(alpha=10.0).fit(xtr, y2)
    out.update({"ridge_multi/y": y2, "ridge_multi/coef": m.coef_, "ridge_multi/intercept": m.intercept_,
                "ridge_multi/pred": m.predict(xte)})


os.makedirs(OUT, exist_ok=True)
for name in ml_datasets.NAMES:
    x, y, train, test = ml_datasets.load(name)
    out = {"x": x, "y": y, "train": train, "test": test}
    scalers(out, x[train], x[test])
    x_nan = x.copy()
    x_nan[np.random.default_rng(0).random(x.shape) < 0.1] = np.nan
    out["imputer/x_nan"] = x_nan
    for strategy in ("mean", "median", "most_frequent"):
        imp = impute.SimpleImputer(strategy=strategy).fit(x_nan[train])
        out.update({f"imputer_{strategy}/statistics": imp.statistics_, f"imputer_{strategy}/out": imp.transform(x_nan[test])})
    pca(out, {"iris": 2, "digits": 10}.get(name, 5), x[train], x[test])
    if name in ("iris", "digits"):
        km = cluster.KMeans(n_clusters=3 if name == "iris" else 10, n_init=10, random_state=0).fit(x)
        out.update({"kmeans/centers": km.cluster_centers_, "kmeans/labels": np.asarray(km.labels_, np.int64),
                    "kmeans/inertia": km.inertia_, "metrics/silhouette": metrics.silhouette_score(x, km.labels_)})
    if name != "diabetes":
        classification(out, x[train], y[train], x[test], y[test])
    if name == "diabetes":
        regression(out, x[train], y[train], x[test], y[test])
    out = {k: np.asarray(v, np.float64) if np.ndim(v) == 0 else np.asarray(v) for k, v in out.items()}
    path = os.path.join(OUT, f"{name}.npz")
    save_npz(path, out)
    print(f"{name}: {x.shape}, {len(out)} arrays, {os.path.getsize(path)} bytes")
print("scikit-learn", sklearn.__version__, "numpy", np.__version__)
