"""The data sets the nx::ml golden generators share: scikit-learn's iris, wine,
breast_cancer, diabetes and digits, with the 75/25 split (train_test_split,
random_state=0) that shared/TARGETS.md's reference scores use."""
import numpy as np
from sklearn import datasets, model_selection

NAMES = ("iris", "wine", "breast_cancer", "diabetes", "digits")
_LOADERS = {"iris": datasets.load_iris, "wine": datasets.load_wine, "breast_cancer": datasets.load_breast_cancer,
            "diabetes": datasets.load_diabetes, "digits": datasets.load_digits}


def split(n):
    train, test = model_selection.train_test_split(np.arange(n), test_size=0.25, random_state=0)
    return np.asarray(train, np.int64), np.asarray(test, np.int64)


def load(name):
    """x (f64), y (int64 class ids; f64 for diabetes), train, test (int64 row indices)."""
    d = _LOADERS[name]()
    x = np.asarray(d.data, np.float64)
    y = np.asarray(d.target, np.float64 if name == "diabetes" else np.int64)
    train, test = split(len(x))
    return x, y, train, test
