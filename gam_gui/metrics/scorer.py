"""A mergeable accumulator of per-image matches, and the metrics a protocol computes from it.

:class:`Scorer` keeps, for every image, only small arrays: the kept predictions' class, score, box
and true-positive flags (ten IoU thresholds packed in one integer), and the ground truth's boxes,
classes and the score that found each one. No image and no map is held, so a 5,000-image run costs
a few megabytes. Two scorers over disjoint images :meth:`~Scorer.merge` into exactly what one run
over all of them holds (images are ordered by their dataset index, whatever the merge order), so
shards computed on several machines give the single run's numbers to the last digit. The arrays
are also what the paired bootstrap (:mod:`gam_gui.metrics.bootstrap`) resamples.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gam_gui.metrics.protocols import IOU_THRESHOLDS, ImageRecord, Protocol, box_iou, get_protocol

T = len(IOU_THRESHOLDS)
#: the confidence grid on which precision, recall and F1 are read (ultralytics uses the same)
CONF_GRID = np.linspace(0.0, 1.0, 1000)
#: the 101 recall points of the PR curves
RECALL_GRID = np.linspace(0.0, 1.0, 101)
FORMAT = "gam-gui-scorer"
FORMAT_VERSION = 1
#: the per-row columns a scorer keeps, and their types
DTYPES = {"pred_cls": np.int32, "pred_score": np.float64, "pred_box": np.float32, "tp": np.int16,
          "ignore": np.int16, "gt_cls": np.int32, "gt_box": np.float32, "gt_counted": bool,
          "gt_score": np.float64}


class ScorerFormatError(ValueError):
    """A scorer/shard file that cannot be read (``path``, ``field``)."""

    def __init__(self, message: str, path: str = "", field: str = "") -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.field = field


def pack_bits(flags: np.ndarray) -> np.ndarray:
    """(k, 10) bool -> (k,) int16, bit t = threshold t."""
    flags = np.asarray(flags, bool).reshape(-1, T)
    return (flags.astype(np.int16) << np.arange(T, dtype=np.int16)).sum(1).astype(np.int16)


def unpack_bits(bits: np.ndarray) -> np.ndarray:
    """(k,) int -> (k, 10) bool."""
    return ((np.asarray(bits, np.int64)[:, None] >> np.arange(T)) & 1).astype(bool)


@dataclass
class ScoreArrays:
    """Every image's arrays laid end to end, images in dataset order (what metrics and the
    bootstrap read). ``pred_img``/``gt_img``: the image (0..images-1) of each row."""

    index: np.ndarray
    image_ids: list
    paths: list[str]
    sizes: np.ndarray
    pred_img: np.ndarray
    pred_cls: np.ndarray
    pred_score: np.ndarray
    pred_box: np.ndarray
    tp: np.ndarray
    ignore: np.ndarray | None
    gt_img: np.ndarray
    gt_cls: np.ndarray
    gt_box: np.ndarray
    gt_counted: np.ndarray
    gt_score: np.ndarray

    @property
    def images(self) -> int:
        return len(self.index)


@dataclass
class Metrics:
    """What a protocol makes of a scorer: the numbers users put beside their training log.

    ``precision`` and ``recall`` are read at the confidence with the best mean F1 over classes
    (``conf_best_f1``), at IoU 0.5, as ultralytics reports them; ``per_class`` has one row per class
    (``ap50``, ``ap50_95``, ``precision``, ``recall``, ``instances``: NaN/None for classes without
    ground truth); ``confusion`` is (nc + 1) x (nc + 1), rows predicted, columns true, the last row and
    column "background"; ``pr_curve`` holds each class's interpolated precision at
    :data:`RECALL_GRID` at IoU 0.5.
    """

    protocol: str
    map50: float
    map50_95: float
    precision: float
    recall: float
    conf_best_f1: float
    per_class: list[dict]
    per_class_ap50: dict[str, float]
    images: int
    instances: int
    confusion: list[list[int]] = field(default_factory=list)
    pr_curve: dict = field(default_factory=dict)

    def summary(self) -> dict:
        """The keys ``gam-gui eval`` prints (no curves or matrix)."""
        return {"protocol": self.protocol, "map50": self.map50, "map50_95": self.map50_95,
                "precision": self.precision, "recall": self.recall, "conf_best_f1": self.conf_best_f1,
                "per_class_ap50": self.per_class_ap50, "per_class": self.per_class, "images": self.images,
                "instances": self.instances}


def nan_mean(a: np.ndarray) -> float:
    a = np.asarray(a, np.float64)
    a = a[np.isfinite(a)]
    return float(a.mean()) if a.size else float("nan")


def round_or_nan(x: float, digits: int = 4) -> float:
    return round(float(x), digits) if np.isfinite(x) else float("nan")


class Scorer:
    """Per-image matches of one model configuration under one protocol (see the module docstring).

    ``found_conf``: a ground-truth box counts as *found* (compare's lists) when the prediction that
    matched it at IoU 0.5 scores at least this; ``confusion_conf``/``confusion_iou``: the confusion
    matrix's settings (ultralytics': 0.25 and 0.45).
    """

    def __init__(self, names: list[str] | dict, protocol: str | Protocol = "coco",
                 confusion_conf: float = 0.25, confusion_iou: float = 0.45) -> None:
        if isinstance(names, dict):
            names = [names[k] for k in sorted(names)]
        self.names = [str(n) for n in names]
        self.protocol = get_protocol(protocol)
        self.confusion_conf, self.confusion_iou = confusion_conf, confusion_iou
        self.nc = len(self.names)
        self.confusion = np.zeros((self.nc + 1, self.nc + 1), np.int64)
        self._images: list[tuple] = []  # (index, image_id, path, width, height)
        self._cols: dict[str, list[np.ndarray]] = {k: [] for k in (
            "pred_cls", "pred_score", "pred_box", "tp", "ignore", "gt_cls", "gt_box", "gt_counted", "gt_score")}
        self._cache: ScoreArrays | None = None

    def __len__(self) -> int:
        return len(self._images)

    # -- adding ----------------------------------------------------------------------------------
    def add(self, rec: ImageRecord, index: int | None = None) -> None:
        """Score one image under the protocol and keep its compact arrays."""
        m = self.protocol.evaluate_image(rec)
        keep = np.asarray(m.keep, np.int64)
        self._images.append((len(self._images) if index is None else int(index), rec.image_id, str(rec.path),
                             int(rec.width), int(rec.height)))
        c = self._cols
        c["pred_cls"].append(rec.pred_cls[keep].astype(np.int32))
        c["pred_score"].append(rec.pred_scores[keep].astype(np.float64))
        c["pred_box"].append(rec.pred_boxes[keep].astype(np.float32))
        c["tp"].append(pack_bits(m.tp))
        c["ignore"].append(pack_bits(m.ignore) if m.ignore is not None else np.zeros(len(keep), np.int16))
        c["gt_cls"].append(rec.gt_cls.astype(np.int32))
        c["gt_box"].append(rec.gt_boxes.astype(np.float32))
        counted = m.gt_counted if len(m.gt_counted) == len(rec.gt_cls) else ~rec.crowd
        c["gt_counted"].append(np.asarray(counted, bool))
        c["gt_score"].append(np.asarray(m.gt_score, np.float64))
        self.confusion += confusion_matrix(rec, self.nc, self.confusion_conf, self.confusion_iou)
        self._cache = None

    def merge(self, other: Scorer) -> Scorer:
        """Add ``other``'s images (disjoint from ours: the same index twice is an error); returns self."""
        if other.names != self.names or other.protocol.name != self.protocol.name:
            raise ValueError("cannot merge scorers of different classes or protocols")
        mine = {im[0] for im in self._images}
        clash = [im[0] for im in other._images if im[0] in mine]
        if clash:
            raise ValueError(f"image index {clash[0]} is in both scorers (overlapping shards)")
        self._images += other._images
        for k in self._cols:
            self._cols[k] += other._cols[k]
        self.confusion = self.confusion + other.confusion
        self._cache = None
        return self

    # -- arrays ----------------------------------------------------------------------------------
    def arrays(self) -> ScoreArrays:
        """The images laid end to end in dataset-index order (cached until the next add/merge)."""
        if self._cache is not None:
            return self._cache
        order = sorted(range(len(self._images)), key=lambda i: self._images[i][0])
        c = {k: [v[i] for i in order] for k, v in self._cols.items()}
        n_pred = np.array([len(x) for x in c["pred_cls"]], np.int64)
        n_gt = np.array([len(x) for x in c["gt_cls"]], np.int64)

        def cat(key: str, shape: tuple = (), dtype: type = np.float64) -> np.ndarray:
            return np.concatenate(c[key]) if c[key] else np.zeros((0, *shape), dtype)

        ign = cat("ignore", (), np.int16)
        self._cache = ScoreArrays(
            index=np.array([self._images[i][0] for i in order], np.int64),
            image_ids=[self._images[i][1] for i in order], paths=[self._images[i][2] for i in order],
            sizes=np.array([self._images[i][3:5] for i in order], np.int64).reshape(-1, 2),
            pred_img=np.repeat(np.arange(len(order)), n_pred), pred_cls=cat("pred_cls", (), np.int32),
            pred_score=cat("pred_score"), pred_box=cat("pred_box", (4,), np.float32),
            tp=unpack_bits(cat("tp", (), np.int16)), ignore=unpack_bits(ign) if ign.any() else None,
            gt_img=np.repeat(np.arange(len(order)), n_gt), gt_cls=cat("gt_cls", (), np.int32),
            gt_box=cat("gt_box", (4,), np.float32), gt_counted=cat("gt_counted", (), bool),
            gt_score=cat("gt_score"))
        return self._cache

    # -- metrics ---------------------------------------------------------------------------------
    def metrics(self) -> Metrics:
        """mAP@0.5, mAP@0.5:0.95, precision and recall at the best-F1 confidence, per-class rows,
        the confusion matrix and the PR curves, as the protocol defines them."""
        a = self.arrays()
        p = self.protocol
        n_gt = np.bincount(a.gt_cls[a.gt_counted], minlength=self.nc)[: self.nc].astype(np.float64)
        aps = np.full((self.nc, T), np.nan)
        prec = np.full((self.nc, len(CONF_GRID)), np.nan)
        rec = np.full((self.nc, len(CONF_GRID)), np.nan)
        curves = {}
        for c in range(self.nc):
            sel = a.pred_cls == c
            tp, conf = a.tp[sel], a.pred_score[sel]
            ig = a.ignore[sel] if a.ignore is not None else None
            extra = () if ig is None else (ig,)
            aps[c] = p.ap(tp, conf, np.ones(len(conf)), float(n_gt[c]), *extra)
            if n_gt[c] > 0:
                keep50 = ~ig[:, 0] if ig is not None else np.ones(len(conf), bool)
                prec[c], rec[c] = p.pr(tp[keep50, 0], conf[keep50], float(n_gt[c]), CONF_GRID)
                curves[self.names[c]] = pr_envelope(tp[keep50, 0], conf[keep50], float(n_gt[c]))
        valid = n_gt > 0
        best = best_f1_index(p, prec[valid], rec[valid])
        P = prec[:, best] if best is not None else np.full(self.nc, np.nan)
        R = rec[:, best] if best is not None else np.full(self.nc, np.nan)
        per_class = [{"class": self.names[c], "ap50": aps[c, 0], "ap50_95": nan_mean(aps[c]) if valid[c] else
                      float("nan"), "precision": P[c], "recall": R[c], "instances": int(n_gt[c])}
                     for c in range(self.nc)]
        pr = {"recall": RECALL_GRID.tolist(), "precision": {k: v.tolist() for k, v in curves.items()}}
        return Metrics(
            protocol=p.name,
            map50=nan_mean(aps[valid, 0]) if valid.any() else float("nan"),
            map50_95=nan_mean(aps[valid].mean(1)) if valid.any() else float("nan"),
            precision=nan_mean(P[valid]) if best is not None else float("nan"),
            recall=nan_mean(R[valid]) if best is not None else float("nan"),
            conf_best_f1=float(CONF_GRID[best]) if best is not None else float("nan"),
            per_class=[{k: (round_or_nan(v) if isinstance(v, float) else v) for k, v in row.items()}
                       for row in per_class],
            per_class_ap50={self.names[c]: round_or_nan(aps[c, 0]) for c in range(self.nc)},
            images=a.images, instances=int(n_gt.sum()), confusion=self.confusion.tolist(), pr_curve=pr)

    # -- serialisation ---------------------------------------------------------------------------
    def state(self) -> tuple[dict, dict[str, np.ndarray]]:
        """(meta, arrays): the scorer exactly, as plain JSON-able data and numpy arrays."""
        meta = {"format": FORMAT, "version": FORMAT_VERSION, "protocol": self.protocol.name, "names": self.names,
                "confusion_conf": self.confusion_conf, "confusion_iou": self.confusion_iou,
                "images": [list(im) for im in self._images], "confusion": self.confusion.tolist()}
        c = self._cols
        arrays = {"n_pred": np.array([len(x) for x in c["pred_cls"]], np.int64),
                  "n_gt": np.array([len(x) for x in c["gt_cls"]], np.int64)}
        for k, v in c.items():
            arrays[k] = np.concatenate(v) if v else np.zeros((0, 4) if k.endswith("_box") else (0,), DTYPES[k])
        return meta, arrays

    @classmethod
    def from_state(cls, meta: dict, arrays: dict, path: str = "") -> Scorer:
        """The scorer :meth:`state` described (``path``: for error messages)."""
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise ScorerFormatError("not a gam-gui scorer", path, "format")
        if meta.get("version") != FORMAT_VERSION:
            raise ScorerFormatError(f"scorer format version {meta.get('version')} (this gam-gui reads "
                                    f"{FORMAT_VERSION})", path, "version")
        try:
            s = cls(meta["names"], meta["protocol"], float(meta["confusion_conf"]), float(meta["confusion_iou"]))
            s.confusion = np.asarray(meta["confusion"], np.int64).reshape(s.nc + 1, s.nc + 1)
            images = [(int(i), iid, str(p), int(w), int(h)) for i, iid, p, w, h in meta["images"]]
            n_pred = np.asarray(arrays["n_pred"], np.int64)
            n_gt = np.asarray(arrays["n_gt"], np.int64)
            if len(n_pred) != len(images) or len(n_gt) != len(images):
                raise ScorerFormatError("per-image counts do not match the image list", path, "n_pred")
            cuts_p, cuts_g = np.cumsum(n_pred)[:-1], np.cumsum(n_gt)[:-1]
            for k, dt in DTYPES.items():
                v = np.asarray(arrays[k], dt)
                if k.endswith("_box"):
                    v = v.reshape(-1, 4)
                expect = int(n_gt.sum()) if k.startswith("gt_") else int(n_pred.sum())
                if len(v) != expect:
                    raise ScorerFormatError(f"{k} has {len(v)} rows, expected {expect}", path, k)
                s._cols[k] = np.split(v, cuts_g if k.startswith("gt_") else cuts_p) if images else []
            s._images = images
        except ScorerFormatError:
            raise
        except (KeyError, TypeError, ValueError) as e:
            raise ScorerFormatError(f"malformed scorer data ({type(e).__name__}: {e})", path, "arrays") from None
        return s

    def to_dict(self) -> dict:
        """Plain JSON-able data: the scorer, exactly (scores as Python floats round-trip bit for bit)."""
        meta, arrays = self.state()
        return {**meta, "arrays": {k: v.tolist() for k, v in arrays.items()}}

    @classmethod
    def from_dict(cls, d: dict, path: str = "") -> Scorer:
        if not isinstance(d, dict) or not isinstance(d.get("arrays"), dict):
            raise ScorerFormatError("not a gam-gui scorer", path, "format")
        return cls.from_state({k: v for k, v in d.items() if k != "arrays"}, d["arrays"], path)

    def save(self, path: str | Path) -> None:
        """``.npz`` (compact arrays) or anything else as JSON."""
        path = Path(path)
        if path.suffix == ".npz":
            meta, arrays = self.state()
            np.savez_compressed(path, meta=np.array(json.dumps(meta)), **arrays)
        else:
            from gam_gui.jsonio import dumps

            path.write_text(dumps(self.to_dict(), indent=None))

    @classmethod
    def load(cls, path: str | Path) -> Scorer:
        path = Path(path)
        try:
            if path.suffix == ".npz":
                with np.load(path, allow_pickle=False) as z:
                    meta = json.loads(str(z["meta"]))
                    arrays = {k: z[k] for k in z.files if k != "meta"}
                return cls.from_state(meta, arrays, str(path))
            return cls.from_dict(json.loads(path.read_text()), str(path))
        except ScorerFormatError:
            raise
        except (OSError, ValueError, KeyError) as e:
            raise ScorerFormatError(f"cannot read ({type(e).__name__}: {e})", str(path), "file") from None


def best_f1_index(protocol: Protocol, prec: np.ndarray, rec: np.ndarray) -> int | None:
    """Index into :data:`CONF_GRID` of the best mean F1 over classes (``protocol.best_f1`` when the
    protocol defines its own rule, e.g. ultralytics' smoothed F1); ``None`` without classes."""
    if not len(prec):
        return None
    hook = getattr(protocol, "best_f1", None)
    if callable(hook):
        return int(hook(prec, rec))
    f1 = 2 * prec * rec / np.maximum(prec + rec, 1e-16)
    return int(np.argmax(np.nan_to_num(f1).mean(0)))


def pr_envelope(tp50: np.ndarray, conf: np.ndarray, n_gt: float) -> np.ndarray:
    """One class's precision at :data:`RECALL_GRID` at IoU 0.5 (non-increasing envelope; 0 past
    the last recall reached), the curve a PR plot draws."""
    if not len(conf):
        return np.zeros(len(RECALL_GRID))
    order = np.argsort(-np.asarray(conf), kind="mergesort")
    t = np.asarray(tp50, bool)[order]
    tpc, fpc = np.cumsum(t), np.cumsum(~t)
    recall, precision = tpc / n_gt, tpc / np.maximum(tpc + fpc, 1)
    env = np.maximum.accumulate(precision[::-1])[::-1]
    idx = np.searchsorted(recall, RECALL_GRID, side="left")
    return np.where(idx < len(env), env[np.minimum(idx, len(env) - 1)], 0.0)


def confusion_matrix(rec: ImageRecord, nc: int, conf: float = 0.25, iou: float = 0.45) -> np.ndarray:
    """(nc + 1) x (nc + 1) counts for one image, rows predicted, columns true, index ``nc`` the
    background: predictions scoring at least ``conf`` are paired with ground-truth boxes of any
    class overlapping at least ``iou`` (one to one, largest overlap first), as ultralytics does."""
    m = np.zeros((nc + 1, nc + 1), np.int64)
    keep = rec.pred_scores >= conf
    pb, pc = rec.pred_boxes[keep], rec.pred_cls[keep]
    counted = ~rec.crowd
    gb, gc = rec.gt_boxes[counted], rec.gt_cls[counted]
    pc, gc = np.clip(pc, 0, nc), np.clip(gc, 0, nc)
    if not len(gb):
        np.add.at(m, (pc, nc), 1)
        return m
    if not len(pb):
        np.add.at(m, (nc, gc), 1)
        return m
    ious = box_iou(gb, pb)
    gi, pi = np.nonzero(ious > iou)
    pairs = []
    if len(gi):
        v = ious[gi, pi]
        order = np.argsort(-v, kind="mergesort")
        gi, pi = gi[order], pi[order]
        used_g, used_p = set(), set()
        for g, p in zip(gi.tolist(), pi.tolist(), strict=True):
            if g in used_g or p in used_p:
                continue
            used_g.add(g)
            used_p.add(p)
            pairs.append((g, p))
    mg = np.zeros(len(gb), bool)
    mp = np.zeros(len(pb), bool)
    for g, p in pairs:
        m[pc[p], gc[g]] += 1
        mg[g] = mp[p] = True
    np.add.at(m, (nc, gc[~mg]), 1)
    np.add.at(m, (pc[~mp], nc), 1)
    return m
