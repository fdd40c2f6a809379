#!/usr/bin/env python3
"""Golden values for tests/losses_test.cpp and tests/metrics_test.cpp.

losses/losses.npz: one case per loss and option (from_logits, sparse, label_smoothing,
pos_weight, class weights, axis, each reduction). A case `name` holds the arrays
  name/y_true, name/y_pred      the inputs (floats rounded to f32, so one set of inputs
                                serves the f32 and the f64 test; class ids are int64)
  name/pos_weight, name/class_weights   when the case uses them
  name/cot                      a cotangent shaped like the loss
  name/loss                     the loss, in f64
  name/grad                     d sum(loss * cot) / d y_pred, in f64
The reference is torch.nn.functional where it has the loss (binary_cross_entropy(_with_logits),
cross_entropy, nll_loss, mse_loss, l1_loss, huber_loss, kl_div), otherwise the Keras
formula written with torch ops (probability forms with their epsilon clipping, hinge,
cosine similarity); gradients are torch autograd in f64. The C++ test spells out each
case's options under the same name and checks that both sides list the same cases.
Cases whose names end in "_f64" are checked in f64 only: their values depend on
1 - epsilon, which f32 rounds (see bce_probs_clipped_f64).

losses/metrics.npz: scikit-learn's values (accuracy_score, top_k_accuracy_score,
precision_score, recall_score, f1_score with each average, confusion_matrix,
mean_absolute_error) on a few data sets:
  multiclass/...   40 samples, 5 classes, scores without ties; class 4 appears nowhere
                   (macro averages skip it, as scikit-learn's default labels) and class 3
                   is never predicted (its precision divides by zero: 0)
  binary/...       40 probabilities, labels 0/1, thresholds 0.5 and 0.3
  ids/...          predicted class ids (int64) against true ids, 4 classes
  mae/...          real-valued targets [20, 3]

Written with numpy 2.4, torch 2.15 (CPU) and scikit-learn 1.9; a rerun writes the same bytes:
  python3 -m venv .venv && .venv/bin/pip install numpy torch scikit-learn
  .venv/bin/python tests/golden/gen_losses.py
"""
import os
import warnings

import numpy as np
import sklearn.metrics as skm

import torch
import torch.nn.functional as F

from npz_writer import save_npz

torch.set_default_dtype(torch.float64)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "losses")
EPS = 1e-7  # the losses' default epsilon (Keras' backend.epsilon())

rng = np.random.RandomState(20240607)


def f32(x):
    """x rounded to f32, back in f64: exactly representable in both test dtypes."""
    return np.asarray(x, np.float32).astype(np.float64)


def t(x):
    return torch.tensor(np.asarray(x))


arrays = {}


def case(name, y_true, y_pred, fn, cot_seed=None, **extra):
    """Runs fn(y_true, y_pred_tensor, **extra) -> loss tensor in torch f64, stores inputs,
    loss and the gradient of sum(loss * cot) with respect to y_pred."""
    assert not any(k.startswith(name + "/") for k in arrays), name
    yp = t(y_pred).clone().requires_grad_(True)
    yt = t(y_true)
    ex = {k: t(v) for k, v in extra.items()}
    loss = fn(yt, yp, **ex)
    cot = f32(rng.uniform(0.5, 1.5, size=tuple(loss.shape)))
    (g,) = torch.autograd.grad((loss * t(cot)).sum(), yp)
    arrays[name + "/y_true"] = np.asarray(y_true)
    arrays[name + "/y_pred"] = np.asarray(y_pred)
    for k, v in extra.items():
        arrays[name + "/" + k] = np.asarray(v)
    arrays[name + "/cot"] = np.asarray(cot, np.float64)
    arrays[name + "/loss"] = loss.detach().numpy().astype(np.float64)
    arrays[name + "/grad"] = g.numpy().astype(np.float64)
    assert np.all(np.isfinite(arrays[name + "/grad"])), name


def reduce(l, reduction):
    return l.mean() if reduction == "mean" else l.sum() if reduction == "sum" else l


# ---- inputs ----
N, C = 6, 4
labels01 = f32(rng.randint(0, 2, size=(N, C)))
soft = f32(rng.uniform(0, 1, size=(N, C)))
probs = f32(rng.uniform(0.05, 0.95, size=(N, C)))
logits = f32(rng.uniform(-6, 6, size=(N, C)))
logits[0, 0] = 0.0  # the kink of |x| in the stable form: the gradient must still be sigmoid(0) - y
logits_large = f32(np.array([[-100, -30, 0, 30], [50, -50, 1e-3, -1e-3]]))
labels_large = f32(np.array([[1, 0, 1, 0], [0, 1, 1, 0]]))
pos_weight = f32(np.array([2.0, 0.5, 1.0, 3.0]))

# ---- binary cross-entropy ----
def bce_probs(y, p, reduction="mean", pos_weight=None, smoothing=0.0, clip=False):
    if smoothing:
        y = y * (1 - smoothing) + 0.5 * smoothing
    if clip:
        p = p.clamp(EPS, 1 - EPS)
    if pos_weight is None and not clip:
        return F.binary_cross_entropy(p, y, reduction=reduction)
    w = 1.0 if pos_weight is None else pos_weight
    return reduce(-(w * y * torch.log(p) + (1 - y) * torch.log(1 - p)), reduction)


def bce_logits(y, x, reduction="mean", pos_weight=None, smoothing=0.0):
    if smoothing:
        y = y * (1 - smoothing) + 0.5 * smoothing
    return F.binary_cross_entropy_with_logits(x, y, reduction=reduction, pos_weight=pos_weight)


case("bce_probs_mean", labels01, probs, bce_probs)
case("bce_probs_soft_sum", soft, probs, lambda y, p: bce_probs(y, p, "sum"))
case("bce_probs_none", labels01, probs, lambda y, p: bce_probs(y, p, "none"))
case("bce_probs_pos_weight", labels01, probs, lambda y, p, pos_weight: bce_probs(y, p, pos_weight=pos_weight),
     pos_weight=pos_weight)
case("bce_probs_smoothing", labels01, probs, lambda y, p: bce_probs(y, p, smoothing=0.1))
clipped = probs.copy()
clipped[0, :] = [0.0, 1.0, 1e-9, 1 - 1e-9]
clipped_y = labels01.copy()
clipped_y[0, :] = [1, 0, 1, 0]
case("bce_probs_clipped_f64", clipped_y, clipped, lambda y, p: bce_probs(y, p, "none", clip=True))
case("bce_logits_mean", labels01, logits, bce_logits)
case("bce_logits_soft_sum", soft, logits, lambda y, x: bce_logits(y, x, "sum"))
case("bce_logits_none", labels01, logits, lambda y, x: bce_logits(y, x, "none"))
case("bce_logits_pos_weight", labels01, logits, lambda y, x, pos_weight: bce_logits(y, x, pos_weight=pos_weight),
     pos_weight=pos_weight)
case("bce_logits_pos_weight_none", soft, logits,
     lambda y, x, pos_weight: bce_logits(y, x, "none", pos_weight=pos_weight), pos_weight=pos_weight)
case("bce_logits_smoothing", labels01, logits, lambda y, x: bce_logits(y, x, smoothing=0.2))
case("bce_logits_large", labels_large, logits_large, lambda y, x: bce_logits(y, x, "none"))

# ---- categorical cross-entropy ----
NC, CC = 6, 5
cat_logits = f32(rng.uniform(-4, 4, size=(NC, CC)))
cat_ids = rng.randint(0, CC, size=(NC,)).astype(np.int64)
cat_onehot = np.eye(CC)[cat_ids]
cat_dist = f32(rng.dirichlet(np.ones(CC), size=NC))
cat_probs = f32(rng.dirichlet(np.ones(CC) * 2, size=NC))
cat_probs_unnormalised = f32(cat_probs * 1.7)  # the probability form divides by the sum
cat_weights = f32(np.array([1.0, 2.0, 0.5, 1.5, 3.0]))
cat_logits_large = f32(np.array([[1000, -1000, 0, 999, 1], [-500, -500, -500, -500, -499]]))
cat_ids_large = np.array([3, 4], dtype=np.int64)
cat3_logits = f32(rng.uniform(-3, 3, size=(3, 4, 5)))  # class axis 1
cat3_ids = rng.randint(0, 4, size=(3, 5)).astype(np.int64)


def cce_logits(y, x, reduction="mean", weight=None, smoothing=0.0):
    return F.cross_entropy(x, y, weight=weight, reduction=reduction, label_smoothing=smoothing)


def cce_probs(y, p, reduction="mean", sparse=False):
    p = p / p.sum(-1, keepdim=True)
    logp = torch.log(p.clamp(EPS, 1 - EPS))
    if sparse:
        y = F.one_hot(y, p.shape[-1]).to(p.dtype)
    return reduce(-(y * logp).sum(-1), reduction)


case("cce_logits_dense", cat_dist, cat_logits, cce_logits)
case("cce_logits_onehot_sum", cat_onehot, cat_logits, lambda y, x: cce_logits(y, x, "sum"))
case("cce_logits_dense_none", cat_dist, cat_logits, lambda y, x: cce_logits(y, x, "none"))
case("cce_logits_dense_smoothing", cat_dist, cat_logits, lambda y, x: cce_logits(y, x, smoothing=0.1))
case("cce_logits_dense_weights_smoothing", cat_dist, cat_logits,
     lambda y, x, class_weights: cce_logits(y, x, weight=class_weights, smoothing=0.2), class_weights=cat_weights)
case("cce_logits_sparse", cat_ids, cat_logits, cce_logits)
case("cce_logits_sparse_none", cat_ids, cat_logits, lambda y, x: cce_logits(y, x, "none"))
case("cce_logits_sparse_smoothing", cat_ids, cat_logits, lambda y, x: cce_logits(y, x, smoothing=0.2))
case("cce_logits_sparse_weights", cat_ids, cat_logits,
     lambda y, x, class_weights: cce_logits(y, x, weight=class_weights), class_weights=cat_weights)
case("cce_logits_sparse_weights_sum", cat_ids, cat_logits,
     lambda y, x, class_weights: cce_logits(y, x, "sum", weight=class_weights), class_weights=cat_weights)
case("cce_logits_sparse_weights_smoothing", cat_ids, cat_logits,
     lambda y, x, class_weights: cce_logits(y, x, weight=class_weights, smoothing=0.3), class_weights=cat_weights)
case("cce_logits_sparse_large", cat_ids_large, cat_logits_large, lambda y, x: cce_logits(y, x, "none"))
case("cce_logits_sparse_axis1", cat3_ids, cat3_logits, lambda y, x: cce_logits(y, x, "none"))
case("cce_probs_dense", cat_onehot, cat_probs_unnormalised, cce_probs)
case("cce_probs_dist_none", cat_dist, cat_probs, lambda y, p: cce_probs(y, p, "none"))
case("cce_probs_sparse", cat_ids, cat_probs_unnormalised, lambda y, p: cce_probs(y, p, sparse=True))

# ---- regression losses ----
reg_true = f32(rng.normal(0, 2, size=(N, C)))
reg_pred = f32(reg_true + rng.normal(0, 1.5, size=(N, C)))
# |d| near the Huber deltas but not on them (the kink is not a test of tie-breaking)
case("mse_mean", reg_true, reg_pred, lambda y, x: F.mse_loss(x, y))
case("mse_sum", reg_true, reg_pred, lambda y, x: F.mse_loss(x, y, reduction="sum"))
case("mse_none", reg_true, reg_pred, lambda y, x: F.mse_loss(x, y, reduction="none"))
case("mae_mean", reg_true, reg_pred, lambda y, x: F.l1_loss(x, y))
case("mae_none", reg_true, reg_pred, lambda y, x: F.l1_loss(x, y, reduction="none"))
case("huber_mean", reg_true, reg_pred, lambda y, x: F.huber_loss(x, y))
case("huber_delta_half_sum", reg_true, reg_pred, lambda y, x: F.huber_loss(x, y, reduction="sum", delta=0.5))
case("huber_delta_2_none", reg_true, reg_pred, lambda y, x: F.huber_loss(x, y, reduction="none", delta=2.0))
assert np.min(np.abs(np.abs(reg_pred - reg_true)[None] - np.array([0.5, 1.0, 2.0])[:, None, None])) > 1e-3

# ---- hinge (Keras: labels that are all 0/1 become -1/1) ----
hinge_pm = f32(2 * rng.randint(0, 2, size=(N, C)) - 1)
hinge_x = f32(rng.uniform(-2.5, 2.5, size=(N, C)))
assert np.min(np.abs(1 - hinge_pm * hinge_x)) > 1e-3


def hinge(y, x, reduction="mean"):
    if bool(((y == 0) | (y == 1)).all()):
        y = 2 * y - 1
    return reduce(torch.clamp(1 - y * x, min=0), reduction)


case("hinge_pm1_mean", hinge_pm, hinge_x, hinge)
case("hinge_01_none", (hinge_pm + 1) / 2, hinge_x, lambda y, x: hinge(y, x, "none"))
case("hinge_pm1_sum", hinge_pm, hinge_x, lambda y, x: hinge(y, x, "sum"))

# ---- KL divergence ----
kl_true = cat_dist.copy()
kl_true[0, 1] = 0.0  # a zero target: Keras clips it to epsilon, torch's xlogy gives 0
kl_true[0, :] /= kl_true[0, :].sum()
kl_true = f32(kl_true)
kl_logp = f32(F.log_softmax(t(cat_logits), -1).numpy())


def kl_probs(y, p, reduction="mean"):
    y = y.clamp(EPS, 1)
    p = p.clamp(EPS, 1)
    return reduce((y * torch.log(y / p)).sum(-1), reduction)


def kl_from_log(y, logp, reduction):
    if reduction == "mean":
        return F.kl_div(logp, y, reduction="batchmean")
    if reduction == "sum":
        return F.kl_div(logp, y, reduction="sum")
    return F.kl_div(logp, y, reduction="none").sum(-1)


case("kl_probs_mean", kl_true, cat_probs, kl_probs)
case("kl_probs_none", kl_true, cat_probs, lambda y, p: kl_probs(y, p, "none"))
case("kl_from_log_mean", kl_true, kl_logp, lambda y, x: kl_from_log(y, x, "mean"))
case("kl_from_log_sum", kl_true, kl_logp, lambda y, x: kl_from_log(y, x, "sum"))
case("kl_from_log_none", kl_true, kl_logp, lambda y, x: kl_from_log(y, x, "none"))

# ---- nll ----
case("nll_mean", cat_ids, kl_logp, lambda y, x: F.nll_loss(x, y))
case("nll_sum", cat_ids, kl_logp, lambda y, x: F.nll_loss(x, y, reduction="sum"))
case("nll_none", cat_ids, kl_logp, lambda y, x: F.nll_loss(x, y, reduction="none"))

# ---- cosine similarity (Keras: -cos, each vector over max(|v|, 1e-6)) ----
cos_true = f32(rng.normal(size=(N, C)))
cos_pred = f32(rng.normal(size=(N, C)))
cos_pred_zero = cos_pred.copy()
cos_pred_zero[2, :] = 0.0


def neg_cos(y, x, axis=-1, reduction="mean"):
    ny = torch.rsqrt((y * y).sum(axis).clamp(min=1e-12))
    nx = torch.rsqrt((x * x).sum(axis).clamp(min=1e-12))
    return reduce(-(y * x).sum(axis) * ny * nx, reduction)


assert np.allclose(neg_cos(t(cos_true), t(cos_pred), reduction="none").numpy(),
                   -F.cosine_similarity(t(cos_true), t(cos_pred), dim=-1).numpy(), rtol=1e-12, atol=1e-14)
case("cos_mean", cos_true, cos_pred, neg_cos)
case("cos_axis0_none", cos_true, cos_pred, lambda y, x: neg_cos(y, x, axis=0, reduction="none"))
case("cos_zero_vector_sum", cos_true, cos_pred_zero, lambda y, x: neg_cos(y, x, reduction="sum"))

# ---- metrics (scikit-learn) ----
M, MC = 40, 5
m_true = rng.randint(0, 4, size=M).astype(np.int64)  # classes 0..3; 4 never appears
m_scores = f32(rng.uniform(0, 1, size=(M, MC)))
m_scores[:, 4] -= 2.0  # class 4 never predicted
m_scores[:, 3] -= 1.5  # class 3 never predicted, but it is a true label
m_scores = f32(m_scores)
# Agreement well above chance, so precision/recall are not all small.
for i in range(0, M, 2):
    m_scores[i, m_true[i]] += 1.0 if m_true[i] != 3 else 0.0
m_scores = f32(m_scores)
for row in m_scores:
    assert len(np.unique(row)) == MC  # no ties: argmax and top-k are unambiguous
m_pred = m_scores.argmax(1)
assert 3 not in m_pred and 4 not in m_pred and 4 not in m_true and 3 in m_true
metrics = {"multiclass/y_true": m_true, "multiclass/y_pred": m_scores, "multiclass/y_true_onehot": np.eye(MC)[m_true]}
metrics["multiclass/accuracy"] = skm.accuracy_score(m_true, m_pred)
for k in (1, 2, 3, 5):
    with warnings.catch_warnings():  # k = 5 = C: "a perfect score", which is the point
        warnings.simplefilter("ignore")
        metrics[f"multiclass/top_{k}_accuracy"] = skm.top_k_accuracy_score(m_true, m_scores, k=k, labels=range(MC))
for avg in ("micro", "macro", "weighted"):
    metrics[f"multiclass/precision_{avg}"] = skm.precision_score(m_true, m_pred, average=avg, zero_division=0)
    metrics[f"multiclass/recall_{avg}"] = skm.recall_score(m_true, m_pred, average=avg, zero_division=0)
    metrics[f"multiclass/f1_{avg}"] = skm.f1_score(m_true, m_pred, average=avg, zero_division=0)
metrics["multiclass/confusion_matrix"] = skm.confusion_matrix(m_true, m_pred, labels=range(MC)).astype(np.int64)

b_true = rng.randint(0, 2, size=M).astype(np.int64)
b_prob = f32(np.clip(0.5 * b_true + rng.uniform(0, 0.6, size=M) + rng.uniform(-0.15, 0.1, size=M), 0.01, 0.99))
assert np.min(np.abs(b_prob - 0.5)) > 1e-4 and np.min(np.abs(b_prob - 0.3)) > 1e-4
metrics["binary/y_true"] = b_true
metrics["binary/y_pred"] = b_prob
metrics["binary/y_logits"] = f32(np.log(b_prob / (1 - b_prob)))
for thr in (0.5, 0.3):
    suffix = "" if thr == 0.5 else "_t03"
    bp = (b_prob > thr).astype(np.int64)
    metrics[f"binary/accuracy{suffix}"] = skm.accuracy_score(b_true, bp)
    metrics[f"binary/precision{suffix}"] = skm.precision_score(b_true, bp, zero_division=0)
    metrics[f"binary/recall{suffix}"] = skm.recall_score(b_true, bp, zero_division=0)
    metrics[f"binary/f1{suffix}"] = skm.f1_score(b_true, bp, zero_division=0)
    metrics[f"binary/confusion_matrix{suffix}"] = skm.confusion_matrix(b_true, bp, labels=[0, 1]).astype(np.int64)

i_true = rng.randint(0, 4, size=M).astype(np.int64)
i_pred = np.where(rng.uniform(size=M) < 0.6, i_true, rng.randint(0, 4, size=M)).astype(np.int64)
metrics["ids/y_true"] = i_true
metrics["ids/y_pred"] = i_pred
metrics["ids/accuracy"] = skm.accuracy_score(i_true, i_pred)
for avg in ("micro", "macro", "weighted"):
    metrics[f"ids/precision_{avg}"] = skm.precision_score(i_true, i_pred, average=avg, zero_division=0)
    metrics[f"ids/recall_{avg}"] = skm.recall_score(i_true, i_pred, average=avg, zero_division=0)
    metrics[f"ids/f1_{avg}"] = skm.f1_score(i_true, i_pred, average=avg, zero_division=0)
metrics["ids/confusion_matrix"] = skm.confusion_matrix(i_true, i_pred, labels=range(4)).astype(np.int64)

r_true = f32(rng.normal(size=(20, 3)))
r_pred = f32(r_true + rng.normal(scale=0.7, size=(20, 3)))
metrics["mae/y_true"] = r_true
metrics["mae/y_pred"] = r_pred
metrics["mae/mean_absolute_error"] = skm.mean_absolute_error(r_true, r_pred)

os.makedirs(OUT, exist_ok=True)
save_npz(os.path.join(OUT, "losses.npz"), arrays)
save_npz(os.path.join(OUT, "metrics.npz"),
         {k: np.asarray(v, np.float64) if np.ndim(v) == 0 else np.asarray(v) for k, v in metrics.items()})
cases = sorted({k.split("/")[0] for k in arrays})
print(f"{len(cases)} loss cases, {len(metrics)} metric arrays ->", OUT)
for name in ("losses.npz", "metrics.npz"):
    print(name, os.path.getsize(os.path.join(OUT, name)), "bytes")
