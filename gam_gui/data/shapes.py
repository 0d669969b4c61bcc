"""Procedural "hand-drawn shapes held up to a webcam" detection data.

Rendered in memory with OpenCV, deterministic for a given seed, so the trainer needs no disk round
trip and the validation set is reproducible anywhere. Labels are YOLO txt rows
``cls cx cy w h`` (normalised), so the data can also be written out and used with other trainers.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

LOGGER = logging.getLogger(__name__)

CLASS_NAMES: tuple[str, ...] = ("circle", "triangle", "square", "star", "cross")
_WORDS = ("GAM", "yolo", "test", "shape", "note", "42", "draw", "Aa", "xyz", "paper", "ok", "v7")


#: Validation images are rendered from seeds VAL_SEED0 .. VAL_SEED0 + n; the trainer's pool is
#: drawn from seeds below TRAIN_SEED_LIMIT, so the two never meet.
VAL_SEED0 = 10_000_000
TRAIN_SEED_LIMIT = VAL_SEED0
#: The held-out hard slice (:data:`HARD`) uses its own seeds, far from both.
HARD_SEED0 = VAL_SEED0 + 5_000_000


def labels_to_xyxy(labels: np.ndarray, w: int, h: int) -> np.ndarray:
    """YOLO labels (n, 5: class, normalised xywh) -> (n, 4) float32 pixel xyxy boxes."""
    xy, half = labels[:, 1:3], labels[:, 3:5] / 2
    return (np.concatenate((xy - half, xy + half), 1) * np.float32([w, h, w, h])).astype(np.float32)


@dataclass
class Sample:
    image: np.ndarray  # HxWx3 uint8 BGR
    labels: np.ndarray  # (n, 5) float32: cls, cx, cy, w, h normalised to [0, 1]

    def boxes_xyxy(self) -> np.ndarray:
        """Labels as (n, 4) pixel xyxy boxes."""
        h, w = self.image.shape[:2]
        return labels_to_xyxy(self.labels, w, h)


def _outline(cls: int, rng: np.random.Generator) -> np.ndarray:
    """Unit-size outline points (N, 2) of a class, centred on 0, with hand-drawn wobble."""
    if cls == 0:  # circle (slightly elliptic)
        t = np.linspace(0, 2 * np.pi, 72, endpoint=False)
        ax = rng.uniform(0.85, 1.0)
        pts = np.stack([np.cos(t) * ax, np.sin(t)], 1)
    elif cls == 1:  # triangle
        base = rng.uniform(-0.25, 0.25)
        ang = np.array([-np.pi / 2, np.pi / 6 + base * 0.5, 5 * np.pi / 6 - base * 0.5])
        pts = _densify(np.stack([np.cos(ang), np.sin(ang)], 1))
    elif cls == 2:  # square
        a = rng.uniform(0.85, 1.0)
        pts = _densify(np.array([[-1, -a], [1, -a], [1, a], [-1, a]], np.float64) * 0.8)
    elif cls == 3:  # star (5 points)
        k = 5
        inner = rng.uniform(0.35, 0.5)
        ang = -np.pi / 2 + np.arange(2 * k) * np.pi / k
        r = np.where(np.arange(2 * k) % 2 == 0, 1.0, inner)
        pts = _densify(np.stack([np.cos(ang) * r, np.sin(ang) * r], 1))
    else:  # cross (plus sign, 12 corners)
        w = rng.uniform(0.22, 0.36)
        c = [(-w, -1), (w, -1), (w, -w), (1, -w), (1, w), (w, w), (w, 1), (-w, 1), (-w, w), (-1, w),
             (-1, -w), (-w, -w)]
        pts = _densify(np.array(c, np.float64))
    # low-frequency wobble, like a hand-drawn marker line
    n = len(pts)
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    wob = np.zeros(n)
    for f in (2, 3, 5):
        wob += rng.normal(0, 0.025) * np.sin(f * t + rng.uniform(0, 2 * np.pi))
    return pts * (1 + wob)[:, None] + rng.normal(0, 0.006, pts.shape)


def _densify(poly: np.ndarray, per_edge: int = 10) -> np.ndarray:
    out = []
    for i in range(len(poly)):
        a, b = poly[i], poly[(i + 1) % len(poly)]
        for s in np.linspace(0, 1, per_edge, endpoint=False):
            out.append(a + (b - a) * s)
    return np.array(out)


def _transform(pts: np.ndarray, cx: float, cy: float, size: float, rng: np.random.Generator) -> np.ndarray:
    """Rotate, scale, perspective-skew and place outline points."""
    th = rng.uniform(0, 2 * np.pi)
    rot = np.array([[math.cos(th), -math.sin(th)], [math.sin(th), math.cos(th)]])
    p = pts @ rot.T * (size / 2)
    # perspective skew: a mild projective warp around the shape centre
    px, py = rng.normal(0, 0.25, 2) / max(size, 1.0)
    denom = 1 + px * p[:, 0] + py * p[:, 1]
    p = p / np.clip(denom, 0.6, 1.6)[:, None]
    sx = rng.uniform(0.85, 1.15)
    p[:, 0] *= sx
    return p + np.array([cx, cy])


def _color(rng: np.random.Generator, bg: np.ndarray, low_contrast: bool) -> tuple[int, int, int]:
    """A colour that differs from the local background by a random (sometimes small) margin."""
    for _ in range(20):
        c = rng.integers(0, 256, 3)
        d = np.abs(c.astype(int) - bg.astype(int)).mean()
        if (35 <= d <= 70) if low_contrast else d >= 70:
            return int(c[0]), int(c[1]), int(c[2])
    return tuple(int(255 - v) for v in bg)  # type: ignore[return-value]


def _background(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """Paper, desk or cluttered texture with a lighting gradient."""
    kind = rng.integers(0, 4)
    base = rng.integers(60, 250, 3).astype(np.float32)
    img = np.ones((h, w, 3), np.float32) * base
    if kind >= 1:  # smooth blotchy texture
        small = rng.normal(0, rng.uniform(8, 30), (max(h // 32, 2), max(w // 32, 2), 3)).astype(np.float32)
        img += cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
    if kind >= 2:  # fine grain / fabric
        img += rng.normal(0, rng.uniform(3, 12), (h, w, 1)).astype(np.float32)
    if kind == 3:  # wood-like stripes
        yy = np.arange(h, dtype=np.float32)[:, None]
        xx = np.arange(w, dtype=np.float32)[None, :]
        ang = rng.uniform(0, np.pi)
        img += (np.sin((xx * math.cos(ang) + yy * math.sin(ang)) / rng.uniform(3, 12)) * rng.uniform(5, 20))[..., None]
    return img


def _distractors(img: np.ndarray, rng: np.random.Generator) -> None:
    h, w = img.shape[:2]
    s = min(h, w)
    for _ in range(rng.integers(0, 6)):  # straight lines
        p1 = rng.integers(0, [w, h])
        p2 = rng.integers(0, [w, h])
        c = tuple(int(v) for v in rng.integers(0, 256, 3))
        cv2.line(img, tuple(int(v) for v in p1), tuple(int(v) for v in p2), c, int(rng.integers(1, 4)), cv2.LINE_AA)
    for _ in range(rng.integers(0, 4)):  # scribbles: open random walks
        n = rng.integers(5, 14)
        start = rng.uniform(0, [w, h])
        steps = rng.normal(0, s * 0.05, (n, 2)).cumsum(0)
        pts = (start + steps).astype(np.int32).reshape(-1, 1, 2)
        c = tuple(int(v) for v in rng.integers(0, 256, 3))
        cv2.polylines(img, [pts], False, c, int(rng.integers(1, 4)), cv2.LINE_AA)
    for _ in range(rng.integers(0, 4)):  # handwritten-ish text
        word = _WORDS[rng.integers(len(_WORDS))]
        org = (int(rng.integers(0, w - 20)), int(rng.integers(15, h)))
        c = tuple(int(v) for v in rng.integers(0, 256, 3))
        font = [cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_PLAIN][rng.integers(3)]
        scale = float(rng.uniform(0.4, 1.4)) * s / 320
        cv2.putText(img, word, org, font, scale, c, int(rng.integers(1, 3)), cv2.LINE_AA)


def _draw_shape(img: np.ndarray, pts: np.ndarray, rng: np.random.Generator, p_low: float = 0.2) -> np.ndarray:
    """Draw one shape (filled and/or outlined with an uneven stroke); return its pixel mask."""
    h, w = img.shape[:2]
    ipts = np.round(pts).astype(np.int32)
    cx, cy = (int(np.clip(v, 0, d - 1)) for v, d in zip(ipts.mean(0), (w, h), strict=True))
    bg = img[cy, cx].astype(np.float32)
    low = rng.random() < p_low
    col = _color(rng, bg, low)
    mask = np.zeros((h, w), np.uint8)
    size = max(np.ptp(pts[:, 0]), np.ptp(pts[:, 1]))
    filled = rng.random() < 0.45
    if filled:
        cv2.fillPoly(img, [ipts], col, cv2.LINE_AA)
        cv2.fillPoly(mask, [ipts], 255)
    if not filled or rng.random() < 0.5:
        stroke_col = col if not filled else _color(rng, np.array(col, np.float32), False)
        base_t = max(1.0, size * rng.uniform(0.02, 0.08))
        n = len(ipts)
        # uneven stroke: thickness drifts along the outline
        drift = base_t * (1 + 0.5 * np.sin(np.linspace(0, rng.uniform(2, 8), n) + rng.uniform(0, 6)))
        gap = rng.integers(0, n) if rng.random() < 0.3 else -1  # an unclosed stroke end
        for i in range(n):
            if i == gap:
                continue
            a, b = ipts[i], ipts[(i + 1) % n]
            t = int(max(1, round(drift[i])))
            cv2.line(img, (int(a[0]), int(a[1])), (int(b[0]), int(b[1])), stroke_col, t, cv2.LINE_AA)
            cv2.line(mask, (int(a[0]), int(a[1])), (int(b[0]), int(b[1])), 255, t)
    return mask


def _photometric(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    h, w = img.shape[:2]
    # lighting gradient
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    ang = rng.uniform(0, 2 * np.pi)
    g = (xx * math.cos(ang) + yy * math.sin(ang)) / max(h, w)
    img = img * (1 + rng.uniform(-0.35, 0.35) * (g - g.mean()))[..., None]
    # a soft shadow
    if rng.random() < 0.4:
        poly = rng.uniform(0, [w, h], (rng.integers(3, 6), 2)).astype(np.int32)
        sh = np.zeros((h, w), np.float32)
        cv2.fillPoly(sh, [poly], 1.0)
        sh = cv2.GaussianBlur(sh, (0, 0), max(h, w) * 0.04)
        img = img * (1 - rng.uniform(0.2, 0.5) * sh)[..., None]
    img = img * rng.uniform(0.7, 1.2) + rng.uniform(-25, 25)  # exposure
    if rng.random() < 0.5:
        k = rng.uniform(0.3, 1.6)
        img = cv2.GaussianBlur(img, (0, 0), k)
    img = img + rng.normal(0, rng.uniform(0, 10), img.shape[:2] + (1,)) + rng.normal(0, 3, img.shape)
    img = np.clip(img, 0, 255).astype(np.uint8)
    if rng.random() < 0.6:
        q = int(rng.integers(25, 90))
        ok, enc = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, q])
        if ok:
            img = cv2.imdecode(enc, cv2.IMREAD_COLOR)
    return img


@dataclass(frozen=True)
class Difficulty:
    """How hard the rendered scenes are. ``NORMAL`` is what the shipped models were trained and
    validated on; ``HARD`` is a held-out slice for stress tests: small objects (3-15 % of the image
    side instead of 5-50 %), up to 12 per image, shapes allowed to hide each other more (boxes may
    overlap 60 % of the smaller one instead of 35 %), and 80 % of them low-contrast (colour 35-70 away
    from the background instead of >= 70; 20 % in NORMAL). Both draw the same random numbers in the
    same order, so NORMAL samples are unchanged by the existence of HARD."""

    size_range: tuple[float, float] = (0.05, 0.5)
    max_overlap: float = 0.35
    p_low_contrast: float = 0.2
    max_objects: int = 8


NORMAL = Difficulty()
HARD = Difficulty(size_range=(0.03, 0.15), max_overlap=0.6, p_low_contrast=0.8, max_objects=12)


def render_sample(seed: int, size: int | tuple[int, int] = 320, max_objects: int | None = None,
                  difficulty: Difficulty = NORMAL) -> Sample:
    """Render one image with 0..max_objects labelled shapes; the same seed gives the same sample."""
    rng = np.random.default_rng(seed)
    h, w = (size, size) if isinstance(size, int) else size
    s = min(h, w)
    max_objects = difficulty.max_objects if max_objects is None else max_objects
    lo, hi = (math.log(v) for v in difficulty.size_range)
    canvas = np.clip(_background(h, w, rng), 0, 255).astype(np.uint8)
    _distractors(canvas, rng)
    n = int(rng.choice(np.arange(max_objects + 1), p=_count_probs(max_objects)))
    placed: list[tuple[int, np.ndarray, np.ndarray]] = []  # (cls, xyxy, mask)
    for _ in range(n):
        for _attempt in range(15):
            cls = int(rng.integers(len(CLASS_NAMES)))
            size_px = s * math.exp(rng.uniform(lo, hi))
            cx = rng.uniform(size_px * 0.55, w - size_px * 0.55)
            cy = rng.uniform(size_px * 0.55, h - size_px * 0.55)
            pts = _transform(_outline(cls, rng), cx, cy, size_px, rng)
            box = np.array([pts[:, 0].min(), pts[:, 1].min(), pts[:, 0].max(), pts[:, 1].max()])
            if all(_overlap(box, b) < difficulty.max_overlap for _, b, _ in placed):
                break
        else:
            continue
        mask = _draw_shape(canvas, pts, rng, difficulty.p_low_contrast)
        for j, (c, b, m) in enumerate(placed):  # occlusion: later shapes hide earlier ones
            placed[j] = (c, b, cv2.bitwise_and(m, cv2.bitwise_not(mask)))
        placed.append((cls, box, mask))
    labels = []
    for cls, box, mask in placed:
        ys, xs = np.nonzero(mask)
        if len(xs) < 12:
            continue
        full = mask.sum() / 255.0
        x1, y1, x2, y2 = xs.min(), ys.min(), xs.max() + 1, ys.max() + 1
        area_box = (box[2] - box[0]) * (box[3] - box[1])
        if (x2 - x1) * (y2 - y1) < 0.5 * area_box or full < 12:
            continue  # hidden too much to be called that shape
        labels.append([cls, (x1 + x2) / 2 / w, (y1 + y2) / 2 / h, (x2 - x1) / w, (y2 - y1) / h])
    img_out = _photometric(canvas.astype(np.float32), rng)
    return Sample(img_out, np.array(labels, np.float32).reshape(-1, 5))


def _count_probs(k: int) -> np.ndarray:
    p = np.ones(k + 1)
    p[0] = 0.4  # a few empty frames teach "nothing here"
    return p / p.sum()


def _overlap(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over the smaller box: limits how much one shape may hide another."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    small = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return inter / max(small, 1e-6)


def write_dataset(out_dir: str | Path, n: int, seed: int = 0, size: int = 320) -> Path:
    """Write ``n`` samples as a YOLO dataset (images/*.jpg, labels/*.txt, data.yaml)."""
    out = Path(out_dir)
    (out / "images").mkdir(parents=True, exist_ok=True)
    (out / "labels").mkdir(parents=True, exist_ok=True)
    for i in range(n):
        smp = render_sample(seed + i, size)
        cv2.imwrite(str(out / "images" / f"{i:06d}.jpg"), smp.image)
        rows = [f"{int(r[0])} {r[1]:.6f} {r[2]:.6f} {r[3]:.6f} {r[4]:.6f}" for r in smp.labels]
        (out / "labels" / f"{i:06d}.txt").write_text("\n".join(rows) + ("\n" if rows else ""))
    names = "\n".join(f"  {i}: {nm}" for i, nm in enumerate(CLASS_NAMES))
    (out / "data.yaml").write_text(f"path: {out.resolve()}\ntrain: images\nval: images\nnames:\n{names}\n")
    return out
