"""Paired bootstrap over images: how sure is "model A scores higher than model B on this data"?

Both models were run on the same images. A resample draws as many images as there are, with
replacement; the *same* draw scores both models, and the difference of their mAPs is recorded. The
2.5th and 97.5th percentiles of those differences are the 95% interval. Because the images are
shared, what varies is which images are in the set, not the models: the interval says how much the
measured gain depends on the particular images, not how much it would vary over training runs (one
trained model per configuration is still one training seed).

A resample is a vector of multiplicities (how many times each image was drawn): every prediction
and ground-truth box is counted that many times, so AP under a resample is a weighted cumulative
sum, computed for many resamples at once (:meth:`Protocol.ap_batch`), never by copying images.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gam_gui.metrics.scorer import ScoreArrays, Scorer

#: at most this many float64 cells per (resamples x predictions) block
BLOCK_CELLS = 4_000_000


@dataclass
class BootstrapResult:
    """``diff`` = A - B on all images; ``ci95`` = [2.5th, 97.5th] percentile of the resampled
    differences, for ``map50`` and ``map50_95``; ``a``/``b`` each model's own value."""

    diff: dict[str, float]
    ci95: dict[str, list[float]]
    a: dict[str, float]
    b: dict[str, float]
    resamples: int
    images: int
    seed: int

    def to_dict(self) -> dict:
        return {"diff": self.diff, "ci95": self.ci95, "resamples": self.resamples, "images": self.images,
                "seed": self.seed}


def resample_weights(n_images: int, resamples: int, seed: int) -> np.ndarray:
    """(resamples, n_images) multiplicities of one bootstrap draw each (seeded: the same seed gives
    the same draws)."""
    rng = np.random.default_rng(seed)
    if n_images == 0:
        return np.zeros((resamples, 0), np.float64)
    return rng.multinomial(n_images, np.full(n_images, 1.0 / n_images), size=resamples).astype(np.float64)


def weighted_maps(scorer: Scorer, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(R,) mAP@0.5 and (R,) mAP@0.5:0.95 of ``scorer`` with each image counted ``weights[r, i]``
    times; a class counts in a resample when it has ground truth there."""
    a: ScoreArrays = scorer.arrays()
    p = scorer.protocol
    W = np.asarray(weights, np.float64)
    R, nc = W.shape[0], scorer.nc
    ap50 = np.full((R, nc), np.nan)
    ap = np.full((R, nc), np.nan)
    counted = a.gt_counted
    gt_per_img = np.zeros((a.images, nc))
    np.add.at(gt_per_img, (a.gt_img[counted], a.gt_cls[counted]), 1.0)
    n_gt = W @ gt_per_img  # (R, nc)
    for c in range(nc):
        if not gt_per_img[:, c].any():
            continue
        sel = np.flatnonzero(a.pred_cls == c)
        tp, conf = a.tp[sel], a.pred_score[sel]
        ig = a.ignore[sel] if a.ignore is not None else None
        extra = () if ig is None else (ig,)
        step = max(1, BLOCK_CELLS // max(len(sel), 1))
        for r0 in range(0, R, step):
            Wp = W[r0:r0 + step][:, a.pred_img[sel]]
            res = p.ap_batch(tp, conf, Wp, n_gt[r0:r0 + step, c], *extra)
            ap50[r0:r0 + step, c] = res[:, 0]
            ap[r0:r0 + step, c] = res.mean(1)
    valid = n_gt > 0
    with np.errstate(invalid="ignore"):
        m50 = np.where(valid, ap50, 0).sum(1) / valid.sum(1)
        m = np.where(valid, ap, 0).sum(1) / valid.sum(1)
    return m50, m


def percentile_ci(d: np.ndarray) -> list[float]:
    """[2.5th, 97.5th] percentile of the finite resampled differences (NaN, NaN when none)."""
    d = np.asarray(d, np.float64)
    d = d[np.isfinite(d)]
    if not d.size:
        return [float("nan"), float("nan")]
    lo, hi = np.percentile(d, [2.5, 97.5])
    return [float(lo), float(hi)]


def paired_bootstrap(a: Scorer, b: Scorer, resamples: int = 1000, seed: int = 0) -> BootstrapResult:
    """Paired bootstrap of mAP(A) - mAP(B) over the images both scorers hold (see the module
    docstring). Raises ``ValueError`` when the two were not run on the same images."""
    ia, ib = a.arrays(), b.arrays()
    if not np.array_equal(ia.index, ib.index):
        raise ValueError("paired bootstrap: the two scorers hold different images")
    ma, mb = a.metrics(), b.metrics()
    W = resample_weights(ia.images, resamples, seed)
    a50, a95 = weighted_maps(a, W)
    b50, b95 = weighted_maps(b, W)

    return BootstrapResult(
        diff={"map50": ma.map50 - mb.map50, "map50_95": ma.map50_95 - mb.map50_95},
        ci95={"map50": percentile_ci(a50 - b50), "map50_95": percentile_ci(a95 - b95)},
        a={"map50": ma.map50, "map50_95": ma.map50_95}, b={"map50": mb.map50, "map50_95": mb.map50_95},
        resamples=resamples, images=ia.images, seed=seed)


def bootstrap_against(ref: Scorer, others: list[Scorer], resamples: int = 1000,
                      seed: int = 0) -> list[BootstrapResult]:
    """:func:`paired_bootstrap` of each of ``others`` against ``ref`` (diff = other - ref), with one
    set of resamples for all (the reference is resampled once)."""
    if not others:
        return []
    ir = ref.arrays()
    W = resample_weights(ir.images, resamples, seed)
    r50, r95 = weighted_maps(ref, W)
    mr = ref.metrics()
    out = []
    for o in others:
        if not np.array_equal(o.arrays().index, ir.index):
            raise ValueError("paired bootstrap: the two scorers hold different images")
        mo = o.metrics()
        o50, o95 = weighted_maps(o, W)
        out.append(BootstrapResult(
            diff={"map50": mo.map50 - mr.map50, "map50_95": mo.map50_95 - mr.map50_95},
            ci95={"map50": percentile_ci(o50 - r50), "map50_95": percentile_ci(o95 - r95)},
            a={"map50": mo.map50, "map50_95": mo.map50_95}, b={"map50": mr.map50, "map50_95": mr.map50_95},
            resamples=resamples, images=ir.images, seed=seed))
    return out
