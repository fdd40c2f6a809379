"""Prints scripts/bench_ml.sh's results as docs/PERFORMANCE.md's nx::ml table: each
workload's time beside scikit-learn's in the same run, the ratio, the quality next to it,
and shared/TARGETS.md's goal where it sets one.
Usage: python3 benchmarks/report_ml.py build/bench-ml"""
import json
import sys
from pathlib import Path

out = Path(sys.argv[1])
# By benchmark name (before any "/"): the median of repeated ones, else the one run.
ours = {}
for b in json.loads((out / "ml.json").read_text())["benchmarks"]:
    if b.get("aggregate_name") == "median" or b.get("run_type") == "iteration" and b.get("repetitions", 1) <= 1:
        ours[b["run_name"].split("/")[0]] = b
peer = json.loads((out / "peers.json").read_text())


def ms(name):
    b = ours[name]
    return b["real_time"] * {"s": 1e3, "ms": 1.0, "us": 1e-3, "ns": 1e-6}[b["time_unit"]]


def counter(name, key):
    return ours[name][key]


rows = [
    ("StandardScaler fit + transform, Fashion-MNIST 60000x784 f32", "BM_StandardScalerFashion", "standard_scaler_ms",
     "", 0.1),
    ("PCA(50) fit, Fashion-MNIST", "BM_Pca50Fashion", "pca50_ms",
     f"explained {counter('BM_Pca50Fashion', 'explained_variance_ratio_sum'):.5f} vs {peer['pca50_explained']:.5f}"
     f" ({peer['pca50_solver']})", 1.0),
    ("KMeans k=10 n_init=10, digits", "BM_KMeansDigits", "kmeans_digits_ms",
     f"inertia {counter('BM_KMeansDigits', 'inertia'):.2f} vs {peer['kmeans_digits_inertia']:.2f}", 1.0),
    ("KMeans k=10, Fashion-MNIST", "BM_KMeansFashion", "kmeans_fashion_ms",
     f"inertia {counter('BM_KMeansFashion', 'inertia'):.0f} vs {peer['kmeans_fashion_inertia']:.0f}", None),
    ("LogisticRegression (<= 100 L-BFGS iterations), Fashion-MNIST", "BM_LogisticFashion",
     "logistic_fashion_ms",
     f"test accuracy {counter('BM_LogisticFashion', 'test_accuracy'):.4f} vs "
     f"{peer['logistic_fashion_accuracy']:.4f}", None),
    ("KNN(5), 10000 queries against 60000", "BM_KnnFashion10000Queries", "knn_ms",
     f"test accuracy {counter('BM_KnnFashion10000Queries', 'test_accuracy'):.4f} vs "
     f"{peer['knn_accuracy']:.4f}", None),
    ("DecisionTreeClassifier fit + predict, digits", "BM_DecisionTreeDigits", "tree_digits_ms",
     f"test accuracy {counter('BM_DecisionTreeDigits', 'test_accuracy'):.4f} vs {peer['tree_digits_accuracy']:.4f}",
     None),
]
print(f"scikit-learn {peer['sklearn']}, numpy {peer['numpy']}")
print()
print("| workload | nx++ ms | scikit-learn ms | ratio | quality (nx++ vs scikit-learn) | goal | met |")
print("|---|---|---|---|---|---|---|")
for label, name, key, quality, goal in rows:
    if name not in ours:
        continue
    a, b = ms(name), peer[key]
    met = "" if goal is None else ("yes" if a / b <= goal else "**no**")
    print(f"| {label} | {a:.1f} | {b:.1f} | {a / b:.2f}x | {quality} | {'' if goal is None else f'<= {goal}x'} | {met} |")
