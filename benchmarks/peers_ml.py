"""scikit-learn's times for benchmarks/ml_bench.cpp's workloads, on the same data, as JSON
(milliseconds and the quality numbers). Run by scripts/bench_ml.sh."""
import gzip
import json
import os
import sys
import time

import numpy as np
import sklearn
from sklearn import cluster, datasets, decomposition, linear_model, model_selection, neighbors, preprocessing, tree

from peer_timing import median_ms

root = os.environ.get("NX_FASHION_MNIST_DIR") or "/usr/share/datasets/fashion-mnist"


def idx(name, offset):
    with gzip.open(os.path.join(root, name)) as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)


xtr = (idx("train-images-idx3-ubyte.gz", 16).reshape(-1, 784) / np.float32(255)).astype(np.float32)
ytr = idx("train-labels-idx1-ubyte.gz", 8).astype(np.int64)
xte = (idx("t10k-images-idx3-ubyte.gz", 16).reshape(-1, 784) / np.float32(255)).astype(np.float32)
yte = idx("t10k-labels-idx1-ubyte.gz", 8).astype(np.int64)
digits_x, digits_y = datasets.load_digits(return_X_y=True)
train, test = model_selection.train_test_split(np.arange(len(digits_x)), test_size=0.25, random_state=0)


def once_ms(fn):
    t = time.perf_counter()
    result = fn()
    return (time.perf_counter() - t) * 1e3, result


out = {"sklearn": sklearn.__version__, "numpy": np.__version__}
out["standard_scaler_ms"] = median_ms(lambda: preprocessing.StandardScaler().fit(xtr).transform(xtr), repeat=5)
pca = decomposition.PCA(50)
out["pca50_ms"] = median_ms(lambda: pca.fit(xtr), repeat=3)
out["pca50_explained"] = float(pca.explained_variance_ratio_.sum())
out["pca50_solver"] = pca._fit_svd_solver
km = cluster.KMeans(10, n_init=10, random_state=0)
out["kmeans_digits_ms"] = median_ms(lambda: km.fit(digits_x), repeat=5)
out["kmeans_digits_inertia"] = float(km.inertia_)
out["kmeans_fashion_ms"], km = once_ms(lambda: cluster.KMeans(10, n_init=1, random_state=0).fit(xtr))
out["kmeans_fashion_inertia"] = float(km.inertia_)
out["logistic_fashion_ms"], lr = once_ms(lambda: linear_model.LogisticRegression(max_iter=100).fit(xtr, ytr))
out["logistic_fashion_accuracy"] = float((lr.predict(xte) == yte).mean())
out["logistic_fashion_iterations"] = int(lr.n_iter_[0])
out["knn_ms"], acc = once_ms(
    lambda: (neighbors.KNeighborsClassifier(5).fit(xtr, ytr).predict(xte) == yte).mean())
out["knn_accuracy"] = float(acc)
out["tree_digits_ms"] = median_ms(
    lambda: tree.DecisionTreeClassifier(random_state=0).fit(digits_x[train], digits_y[train]).predict(digits_x[test]))
out["tree_digits_accuracy"] = float(
    (tree.DecisionTreeClassifier(random_state=0).fit(digits_x[train], digits_y[train]).predict(digits_x[test])
     == digits_y[test]).mean())
json.dump(out, sys.stdout, indent=1)
