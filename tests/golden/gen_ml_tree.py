#!/usr/bin/env python3
"""Golden values for tests/ml_tree_test.cpp: scikit-learn's trees, forests, splitters,
encoders and polynomial features on its own data sets (read by the C++ test from
ml/<name>.npz, written by gen_ml.py: x, y, train, test).

ml/tree.npz, keys <set>/<what>:
  <set> in iris, wine, breast_cancer, digits (classification), fitted on x[train]:
    dtc/{feature,threshold,left,right,value,impurity,samples,importances,proba}
        DecisionTreeClassifier(random_state=0): tree_ arrays, feature_importances_,
        predict_proba(x[test])
    dtc_entropy/{feature,threshold,proba}
        DecisionTreeClassifier(criterion="entropy", max_depth=5, min_samples_leaf=3,
        random_state=1)
    rfc/{proba,importances}   RandomForestClassifier(n_estimators=20, random_state=0)
    cv_tree/scores            cross_val_score(DecisionTreeClassifier(random_state=0), x, y,
                              cv=StratifiedKFold(5, shuffle=True, random_state=0))
  wine/grid/{mean,best}      GridSearchCV(DecisionTreeClassifier(random_state=0),
                              {"criterion": ["entropy", "gini"], "max_depth": [1, 2, 4]},
                              cv=StratifiedKFold(5)): mean_test_score, best_index_
  breast_cancer/rfc_weighted/proba   RandomForestClassifier(n_estimators=10, random_state=3,
                              max_depth=6) with sample_weight 1 + (i % 3) on x[train]
  digits/rfc_sqrt_off/proba  RandomForestClassifier(n_estimators=5, max_features=None,
                              bootstrap=False, random_state=7)
  diabetes (regression), on x[train]:
    dtr/{feature,threshold,left,right,value,impurity,samples,importances,pred}
        DecisionTreeRegressor(random_state=0); pred on x[test]
    dtr_depth4/pred            DecisionTreeRegressor(max_depth=4, min_samples_split=10,
                               random_state=0)
    rfr/pred                   RandomForestRegressor(n_estimators=10, random_state=0)
    poly2/pred                 make_pipeline(PolynomialFeatures(2), LinearRegression())
    poly3_ridge/pred           make_pipeline(PolynomialFeatures(3), Ridge(alpha=1.0)) on the
                               first 4 features
split/... (indices):
  tts_<n>_<test_size*100>_<seed>/{train,test}    train_test_split(arange(n), ...)
  tts_strat_<set>_<seed>/{train,test}           ... stratify=y (iris, digits)
  kfold_<n>_<seed>/{test<i>}                    KFold(5, shuffle=True, random_state=seed)
  skfold_<set>_<shuffle>/{test<i>}              StratifiedKFold(5, shuffle, random_state=0)
encode/... on x = the digits' columns 20..23 of the first 200 rows (small integer codes):
  x, onehot/{out, cats<j>}, onehot_drop/out, ordinal/out
poly/... on iris x[:10]:
  deg2/out, deg3_interaction/out, deg2_nobias/out

Written with numpy 2.4 and scikit-learn 1.9; a rerun writes the same bytes:
  python3 -m venv .venv && .venv/bin/pip install numpy scikit-learn
  .venv/bin/python tests/golden/gen_ml_tree.py
"""
import os

import numpy as np
from sklearn import ensemble, linear_model, model_selection, pipeline, preprocessing, tree

import ml_datasets
from npz_writer import save_npz

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ml", "tree.npz")
data = ml_datasets.load


def tree_arrays(out, key, t, with_values=True):
    tt = t.tree_
    out[key + "/feature"] = tt.feature.astype(np.int64)
    out[key + "/threshold"] = tt.threshold
    if with_values:
        out[key + "/left"] = tt.children_left.astype(np.int64)
        out[key + "/right"] = tt.children_right.astype(np.int64)
        out[key + "/value"] = tt.value[:, 0, :]
        out[key + "/impurity"] = tt.impurity
        out[key + "/samples"] = tt.n_node_samples.astype(np.int64)
        out[key + "/importances"] = t.feature_importances_


def main():
    out = {}
    for name in ["iris", "wine", "breast_cancer", "digits"]:
        x, y, train, test = data(name)
        t = tree.DecisionTreeClassifier(random_state=0).fit(x[train], y[train])
        tree_arrays(out, name + "/dtc", t)
        out[name + "/dtc/proba"] = t.predict_proba(x[test])
        t = tree.DecisionTreeClassifier(criterion="entropy", max_depth=5, min_samples_leaf=3, random_state=1)
        t.fit(x[train], y[train])
        tree_arrays(out, name + "/dtc_entropy", t, with_values=False)
        out[name + "/dtc_entropy/proba"] = t.predict_proba(x[test])
        f = ensemble.RandomForestClassifier(n_estimators=20, random_state=0).fit(x[train], y[train])
        out[name + "/rfc/proba"] = f.predict_proba(x[test])
        out[name + "/rfc/importances"] = f.feature_importances_
        cv = model_selection.StratifiedKFold(5, shuffle=True, random_state=0)
        out[name + "/cv_tree/scores"] = model_selection.cross_val_score(
            tree.DecisionTreeClassifier(random_state=0), x, y, cv=cv)
    x, y, train, test = data("wine")
    g = model_selection.GridSearchCV(tree.DecisionTreeClassifier(random_state=0),
                                     {"criterion": ["entropy", "gini"], "max_depth": [1, 2, 4]},
                                     cv=model_selection.StratifiedKFold(5)).fit(x, y)
    out["wine/grid/mean"] = g.cv_results_["mean_test_score"]
    out["wine/grid/best"] = np.int64(g.best_index_)
    x, y, train, test = data("breast_cancer")
    w = 1.0 + (np.arange(len(train)) % 3)
    f = ensemble.RandomForestClassifier(n_estimators=10, random_state=3, max_depth=6)
    out["breast_cancer/rfc_weighted/proba"] = f.fit(x[train], y[train], sample_weight=w).predict_proba(x[test])
    x, y, train, test = data("digits")
    f = ensemble.RandomForestClassifier(n_estimators=5, max_features=None, bootstrap=False, random_state=7)
    out["digits/rfc_sqrt_off/proba"] = f.fit(x[train], y[train]).predict_proba(x[test])

    x, y, train, test = data("diabetes")
    t = tree.DecisionTreeRegressor(random_state=0).fit(x[train], y[train])
    tree_arrays(out, "diabetes/dtr", t)
    out["diabetes/dtr/pred"] = t.predict(x[test])
    t = tree.DecisionTreeRegressor(max_depth=4, min_samples_split=10, random_state=0).fit(x[train], y[train])
    out["diabetes/dtr_depth4/pred"] = t.predict(x[test])
    f = ensemble.RandomForestRegressor(n_estimators=10, random_state=0).fit(x[train], y[train])
    out["diabetes/rfr/pred"] = f.predict(x[test])
    p = pipeline.make_pipeline(preprocessing.PolynomialFeatures(2), linear_model.LinearRegression())
    out["diabetes/poly2/pred"] = p.fit(x[train], y[train]).predict(x[test])
    p = pipeline.make_pipeline(preprocessing.PolynomialFeatures(3), linear_model.Ridge(alpha=1.0))
    out["diabetes/poly3_ridge/pred"] = p.fit(x[train][:, :4], y[train]).predict(x[test][:, :4])

    for n, size, seed in [(150, 0.25, 0), (150, 0.3, 42), (1797, 0.2, 7), (23, 0.25, 12345)]:
        tr, te = model_selection.train_test_split(np.arange(n), test_size=size, random_state=seed)
        key = "split/tts_%d_%d_%d" % (n, round(size * 100), seed)
        out[key + "/train"], out[key + "/test"] = tr.astype(np.int64), te.astype(np.int64)
    for name, seed in [("iris", 0), ("digits", 42)]:
        x, y, _, _ = data(name)
        tr, te = model_selection.train_test_split(np.arange(len(y)), test_size=0.25, random_state=seed, stratify=y)
        key = "split/tts_strat_%s_%d" % (name, seed)
        out[key + "/train"], out[key + "/test"] = tr.astype(np.int64), te.astype(np.int64)
    for n, seed in [(23, 0), (150, 5)]:
        for i, (_, te) in enumerate(model_selection.KFold(5, shuffle=True, random_state=seed).split(np.arange(n))):
            out["split/kfold_%d_%d/test%d" % (n, seed, i)] = te.astype(np.int64)
    for name in ["wine", "digits"]:
        x, y, _, _ = data(name)
        for shuffle in [False, True]:
            cv = model_selection.StratifiedKFold(5, shuffle=shuffle, random_state=0 if shuffle else None)
            for i, (_, te) in enumerate(cv.split(x, y)):
                out["split/skfold_%s_%d/test%d" % (name, shuffle, i)] = te.astype(np.int64)

    x, _, _, _ = data("digits")
    codes = x[:200, 20:24]
    out["encode/x"] = codes
    e = preprocessing.OneHotEncoder(sparse_output=False).fit(codes)
    out["encode/onehot/out"] = e.transform(codes[::-1])
    for j, c in enumerate(e.categories_):
        out["encode/onehot/cats%d" % j] = c
    e = preprocessing.OneHotEncoder(sparse_output=False, drop="first").fit(codes)
    out["encode/onehot_drop/out"] = e.transform(codes[::-1])
    out["encode/ordinal/out"] = preprocessing.OrdinalEncoder().fit(codes).transform(codes[::-1])

    x, _, _, _ = data("iris")
    out["poly/deg2/out"] = preprocessing.PolynomialFeatures(2).fit_transform(x[:10])
    out["poly/deg3_interaction/out"] = preprocessing.PolynomialFeatures(3, interaction_only=True).fit_transform(x[:10])
    out["poly/deg2_nobias/out"] = preprocessing.PolynomialFeatures(2, include_bias=False).fit_transform(x[:10])
    save_npz(OUT, out)


if __name__ == "__main__":
    main()
