"""ROAD-style fill for removed pixels: linear imputation from the kept neighbours, at low resolution.

Why: a blurred or mean-colour fill pasted into exactly the removed pixels leaves a patch with the
removed set's *shape* (a cross-shaped hole shows a cross), which a detector can still find. ROAD
(Rong et al., "A consistent and efficient evaluation strategy for attribution methods", ICML 2022)
fills each removed pixel from its kept neighbours instead, so the hole takes the colours around it
and its outline carries little.

ROAD solves one sparse linear system per mask with one unknown per removed pixel (up to 147,456
at 384 px), which costs more than the forward it feeds. Here the same harmonic fill (each removed
value = mean of its 4 neighbours, kept values fixed) is solved on a coarse grid whose long side
is at most :data:`GRID` cells (at most 2,304 unknowns: a few milliseconds with SuperLU), then
upsampled bilinearly. A cell counts as kept when at least half of its pixels are; its value is the
mean of its kept pixels. Only the removed pixels take the fill, so kept pixels stay exact.
ROAD's added noise is left out (the fill is deterministic, so equal masks give equal frames).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

#: Long side of the coarse grid the fill is solved on.
GRID = 48


def linear_impute(content: np.ndarray, keep: np.ndarray, grid: int = GRID) -> np.ndarray:
    """The fill for the pixels where ``keep`` is False: an (h, w, c) float32 image, harmonic
    interpolation of the kept pixels solved on a coarse grid. ``content``: (h, w, c) float;
    ``keep``: (h, w) bool. With nothing kept, the fill is the image's mean colour (no neighbour
    is left to impute from)."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.linalg import spsolve

    content = np.asarray(content, np.float32)
    keep = np.asarray(keep, bool)
    h, w, c = content.shape
    if not keep.any():
        return np.broadcast_to(content.reshape(-1, c).mean(0), content.shape).astype(np.float32)
    cell = max(1, math.ceil(max(h, w) / grid))
    gh, gw = math.ceil(h / cell), math.ceil(w / cell)
    ph, pw = gh * cell - h, gw * cell - w
    k = np.pad(keep.astype(np.float32), ((0, ph), (0, pw)))
    v = np.pad(content * keep[..., None], ((0, ph), (0, pw), (0, 0)))
    area = np.pad(np.ones((h, w), np.float32), ((0, ph), (0, pw))).reshape(gh, cell, gw, cell).sum((1, 3))
    kept = k.reshape(gh, cell, gw, cell).sum((1, 3))
    vals = v.reshape(gh, cell, gw, cell, c).sum((1, 3)) / np.maximum(kept, 1e-6)[..., None]
    known = kept >= 0.5 * area
    if not known.any():  # every cell mostly removed: take the cells that kept anything
        known = kept > 0
    unknown = ~known
    n = int(unknown.sum())
    if n:
        idx = np.full((gh, gw), -1, np.int64)
        idx[unknown] = np.arange(n)
        rows, cols, data = [np.arange(n)], [np.arange(n)], []
        diag = np.zeros(n, np.float64)
        rhs = np.zeros((n, c), np.float64)
        uy, ux = np.nonzero(unknown)
        for dy, dx in ((-1, 0), (1, 0), (0, -1), (0, 1)):
            ny, nx = uy + dy, ux + dx
            ok = (ny >= 0) & (ny < gh) & (nx >= 0) & (nx < gw)
            diag[ok] += 1
            src, ny, nx = np.nonzero(ok)[0], ny[ok], nx[ok]
            nb_unknown = unknown[ny, nx]
            rows.append(src[nb_unknown])
            cols.append(idx[ny[nb_unknown], nx[nb_unknown]])
            data.append(np.full(int(nb_unknown.sum()), -1.0))
            np.add.at(rhs, src[~nb_unknown], vals[ny[~nb_unknown], nx[~nb_unknown]])
        a = csr_matrix((np.concatenate([diag, *data]), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n))
        sol = spsolve(a.tocsc(), rhs)
        vals = vals.copy()
        vals[unknown] = np.asarray(sol, np.float32).reshape(n, c)
    full = cv2.resize(vals.astype(np.float32), (gw * cell, gh * cell), interpolation=cv2.INTER_LINEAR)
    return np.ascontiguousarray(full.reshape(gh * cell, gw * cell, c)[:h, :w])
