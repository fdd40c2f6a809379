#!/usr/bin/env python3
"""Golden values for tests/ml_fashion_test.cpp: scikit-learn's estimators on a
Fashion-MNIST subset (data no one here wrote; Debian's dataset-fashion-mnist, read by the
C++ test itself through nx::io::load_fashion_mnist). Only reference outputs are stored.

Subset: the first 2000 training and the first 500 test images, flattened to 784 pixels
and divided by 255 (f64); labels 0..9. Keys of ml/fashion.npz:
  standard/{mean,scale}          StandardScaler() on the train subset
  pca/{ratio,singular}           PCA(20, svd_solver="full") on the train subset
  kmeans/inertia                 KMeans(10, n_init=3, random_state=0) on the train subset
  logistic/{proba,accuracy}      LogisticRegression(C=0.01, max_iter=2000, tol=1e-10) on the
                                 standardized train subset; on the standardized test subset
  knn/pred                       KNeighborsClassifier(5) (brute) on the test subset
  gnb/pred                       GaussianNB()
  mnb/pred                       MultinomialNB() on the raw 0..255 pixel values
  tree/{pred,nodes}              DecisionTreeClassifier(max_depth=12, random_state=0)
  forest/proba                   RandomForestClassifier(n_estimators=20, max_depth=10,
                                 random_state=0)

  .venv/bin/python tests/golden/gen_ml_fashion.py [fashion-mnist dir]
"""
import gzip
import os
import sys

import numpy as np
from sklearn import cluster, decomposition, ensemble, linear_model, naive_bayes, neighbors, preprocessing, tree

from npz_writer import save_npz

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ml", "fashion.npz")
TRAIN, TEST = 2000, 500


def idx(path, offset):
    with gzip.open(path) as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/datasets/fashion-mnist"
    xtr = idx(os.path.join(root, "train-images-idx3-ubyte.gz"), 16).reshape(-1, 784)[:TRAIN].astype(np.float64)
    ytr = idx(os.path.join(root, "train-labels-idx1-ubyte.gz"), 8)[:TRAIN].astype(np.int64)
    xte = idx(os.path.join(root, "t10k-images-idx3-ubyte.gz"), 16).reshape(-1, 784)[:TEST].astype(np.float64)
    raw_tr, raw_te = xtr.copy(), xte.copy()
    xtr /= 255.0
    xte /= 255.0
    out = {}
    s = preprocessing.StandardScaler().fit(xtr)
    out["standard/mean"], out["standard/scale"] = s.mean_, s.scale_
    p = decomposition.PCA(20, svd_solver="full").fit(xtr)
    out["pca/ratio"], out["pca/singular"] = p.explained_variance_ratio_, p.singular_values_
    out["kmeans/inertia"] = np.float64(cluster.KMeans(10, n_init=3, random_state=0).fit(xtr).inertia_)
    lr = linear_model.LogisticRegression(C=0.01, max_iter=2000, tol=1e-10).fit(s.transform(xtr), ytr)
    out["logistic/proba"] = lr.predict_proba(s.transform(xte))
    yte_lr = lr.predict(s.transform(xte))
    out["knn/pred"] = neighbors.KNeighborsClassifier(5, algorithm="brute").fit(xtr, ytr).predict(xte).astype(np.int64)
    out["gnb/pred"] = naive_bayes.GaussianNB().fit(xtr, ytr).predict(xte).astype(np.int64)
    out["mnb/pred"] = naive_bayes.MultinomialNB().fit(raw_tr, ytr).predict(raw_te).astype(np.int64)
    t = tree.DecisionTreeClassifier(max_depth=12, random_state=0).fit(xtr, ytr)
    out["tree/pred"] = t.predict(xte).astype(np.int64)
    out["tree/nodes"] = np.int64(t.tree_.node_count)
    f = ensemble.RandomForestClassifier(n_estimators=20, max_depth=10, random_state=0).fit(xtr, ytr)
    out["forest/proba"] = f.predict_proba(xte)
    save_npz(OUT, out)
    print("logistic test predictions", np.bincount(yte_lr), "kmeans inertia", out["kmeans/inertia"])


if __name__ == "__main__":
    main()
