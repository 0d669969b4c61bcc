"""From a BGR frame to detections: letterbox, forward, class-aware NMS, boxes back in frame pixels."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import cv2
import numpy as np
import torch
import torchvision
from torch import nn

from gam_gui import validate as V
from gam_gui.heads import ANCHOR_LAYOUT, DET_CLS, DET_SCORE, HeadAdapter, adapter_for
from gam_gui.images import ImageError, check_analysable, to_bgr


@dataclass(frozen=True)
class Detection:
    """One detected object; ``xyxy`` is in pixels of the original frame."""

    xyxy: tuple[float, float, float, float]
    score: float
    cls: int
    name: str

    def to_dict(self) -> dict:
        d = asdict(self)
        d["xyxy"] = [round(v, 2) for v in self.xyxy]
        d["score"] = round(self.score, 5)
        return d


@dataclass(frozen=True)
class Letterbox:
    """How a frame was fitted into the network input: ``input = frame * gain + pad``."""

    gain: float
    pad: tuple[float, float]  # (left, top) in input pixels
    frame_shape: tuple[int, int]  # (h, w) of the original frame
    input_shape: tuple[int, int]  # (h, w) of the network input

    def content_box(self) -> tuple[int, int, int, int]:
        """(x1, y1, x2, y2) of the frame's pixels inside the network input (padding excluded)."""
        h, w = self.frame_shape
        x1, y1 = int(round(self.pad[0] - 0.1)), int(round(self.pad[1] - 0.1))
        return x1, y1, x1 + int(round(w * self.gain)), y1 + int(round(h * self.gain))

    def to_frame(self, boxes: torch.Tensor) -> torch.Tensor:
        """Input-pixel xyxy boxes -> frame-pixel boxes, clipped to the frame."""
        out = boxes.clone()
        out[:, [0, 2]] = ((out[:, [0, 2]] - self.pad[0]) / self.gain).clamp(0, self.frame_shape[1])
        out[:, [1, 3]] = ((out[:, [1, 3]] - self.pad[1]) / self.gain).clamp(0, self.frame_shape[0])
        return out

    def map_to_frame(self, m: np.ndarray) -> np.ndarray:
        """A map over the network input (any resolution) -> the same map over the original frame:
        crop the padding away, then resize. This is what keeps heatmaps aligned with objects."""
        ih, iw = self.input_shape
        sy, sx = m.shape[0] / ih, m.shape[1] / iw
        x1, y1, x2, y2 = self.content_box()
        crop = m[int(y1 * sy) : max(int(round(y2 * sy)), int(y1 * sy) + 1),
                 int(x1 * sx) : max(int(round(x2 * sx)), int(x1 * sx) + 1)]
        h, w = self.frame_shape
        return cv2.resize(np.ascontiguousarray(crop, np.float32), (w, h), interpolation=cv2.INTER_LINEAR)


def letterbox(img: np.ndarray, imgsz: int = 640, stride: int = 32, color: int = 114,
              auto: bool = True) -> tuple[np.ndarray, Letterbox]:
    """Resize keeping the aspect ratio and pad to a stride multiple (the minimum rectangle when
    ``auto``, as YOLOv5's ``detect.py`` does; a full ``imgsz`` square otherwise)."""
    h, w = img.shape[:2]
    r = min(imgsz / h, imgsz / w)
    nw, nh = int(round(w * r)), int(round(h * r))
    if auto:
        th, tw = int(np.ceil(nh / stride) * stride), int(np.ceil(nw / stride) * stride)
    else:
        th = tw = int(np.ceil(imgsz / stride) * stride)
    dw, dh = (tw - nw) / 2, (th - nh) / 2
    if (nw, nh) != (w, h):
        img = cv2.resize(img, (nw, nh), interpolation=cv2.INTER_LINEAR if r > 1 else cv2.INTER_AREA)
    top, bottom = int(round(dh - 0.1)), int(round(dh + 0.1))
    left, right = int(round(dw - 0.1)), int(round(dw + 0.1))
    img = cv2.copyMakeBorder(img, top, bottom, left, right, cv2.BORDER_CONSTANT, value=(color,) * 3)
    return img, Letterbox(r, (left, top), (h, w), img.shape[:2])


def model_device(model: nn.Module) -> torch.device:
    p = next(model.parameters(), None)
    return p.device if p is not None else torch.device("cpu")


def model_stride(model: nn.Module) -> int:
    s = getattr(model, "stride", None)
    return int(s.max()) if isinstance(s, torch.Tensor) else 32


def preprocess(model: nn.Module, image: np.ndarray, imgsz: int = 640) -> tuple[torch.Tensor, Letterbox]:
    """uint8 BGR (or gray / BGRA) frame -> (1, 3, H, W) float tensor in [0, 1] on the model's device."""
    bgr = to_bgr(image)
    check_analysable(bgr, imgsz)
    img, lb = letterbox(bgr, imgsz, model_stride(model))
    x = torch.from_numpy(np.ascontiguousarray(img[:, :, ::-1].transpose(2, 0, 1)))
    x = x.to(model_device(model)).float().div_(255.0).unsqueeze(0)
    return x, lb


def multi_label_candidates(layout: HeadAdapter, a: np.ndarray, conf: float,
                           max_nms: int = 30000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Like :meth:`HeadAdapter.candidates`, but every (row, class) whose confidence is above
    ``conf`` is a candidate, so one box may be kept for several classes (the multi-label NMS of
    YOLOv5's and ultralytics' validation); at most ``max_nms`` of them, the best."""
    if layout.objectness:
        idx = np.flatnonzero(a[:, 4] > conf)
        rows = a[idx]
    else:
        idx, rows = np.arange(len(a)), a
    scores = layout.confidences(rows)
    i, j = np.nonzero(scores > conf)
    score = scores[i, j]
    if len(score) > max_nms:
        top = np.argsort(-score, kind="stable")[:max_nms]
        i, j, score = i[top], j[top], score[top]
    return idx[i], score, j.astype(np.int64)


def non_max_suppression(pred: torch.Tensor, conf: float = 0.25, iou: float = 0.45,
                        max_det: int = 300, adapter: HeadAdapter | None = None,
                        multi_label: bool = False) -> list[torch.Tensor]:
    """Prediction rows (B, N, C) -> per image (n, 7): xyxy, score, cls, anchor index (columns named
    in :mod:`gam_gui.heads`); best first, class-aware.

    ``adapter`` (:func:`gam_gui.heads.adapter_for`) says what a row holds (default: the YOLOv5
    layout, objectness x class). The anchor index (row of ``pred``) lets explanations target the
    exact prediction a box came from. Picking the candidates above ``conf`` is a handful of
    operations on a few thousand rows, where each torch call costs more than numpy's whole pass: it
    runs in numpy on a CPU tensor (the same float32 arithmetic, so the same boxes and scores);
    torchvision's ``batched_nms`` then suppresses overlaps. ``multi_label``: see
    :func:`multi_label_candidates`.
    """
    layout = adapter if adapter is not None else ANCHOR_LAYOUT
    out = []
    for x in pred.detach():
        if x.device.type != "cpu":
            x = x.cpu()
        a = x.numpy()
        idx, score, c = multi_label_candidates(layout, a, conf) if multi_label else layout.candidates(a, conf)
        if not len(idx):
            out.append(torch.zeros((0, 7), device=pred.device))
            continue
        rows = a[idx]
        boxes = torch.from_numpy(layout.boxes_xyxy(rows))
        score_t, c_t = torch.from_numpy(np.ascontiguousarray(score)), torch.from_numpy(c)
        k = torchvision.ops.batched_nms(boxes, score_t, c_t, iou)[:max_det]
        det = torch.cat((boxes[k], score_t[k, None], c_t[k, None].to(boxes.dtype),
                         torch.from_numpy(idx)[k, None].to(boxes.dtype)), 1)
        out.append(det.to(pred.device))
    return out


def to_detections(det: torch.Tensor, lb: Letterbox, names: dict[int, str]) -> list[Detection]:
    """Rows of :func:`non_max_suppression` -> frame-pixel :class:`Detection` records (the boxes as
    :meth:`Letterbox.to_frame` maps them, in numpy: a few dozen values)."""
    if not len(det):
        return []
    d = det.detach().cpu().numpy()
    h, w = lb.frame_shape
    b = d[:, :4].copy()
    b[:, [0, 2]] = np.clip((b[:, [0, 2]] - np.float32(lb.pad[0])) / np.float32(lb.gain), 0, w)
    b[:, [1, 3]] = np.clip((b[:, [1, 3]] - np.float32(lb.pad[1])) / np.float32(lb.gain), 0, h)
    return [
        Detection(tuple(box), float(s), int(c), names.get(int(c), str(int(c))))
        for box, s, c in zip(b.tolist(), d[:, DET_SCORE].tolist(), d[:, DET_CLS].tolist(), strict=True)
    ]


@torch.no_grad()
def detect(model: nn.Module, image: np.ndarray, conf: float = 0.25, iou: float = 0.45,
           imgsz: int = 640) -> list[Detection]:
    """Detect objects in one uint8 BGR frame (grayscale and BGRA are converted); best first.

    ``conf`` and ``iou`` must be in [0, 1]; ``imgsz`` is rounded up to the model's stride (a notice
    is logged once), as the network input is padded to it anyway. Runs without autograd: it returns
    boxes, not tensors, so no caller needs the graph."""
    if not isinstance(image, np.ndarray):
        raise ImageError(f"expected a numpy image, got {type(image).__name__}")
    conf, iou = V.check_unit(conf, "conf"), V.check_unit(iou, "iou")
    x, lb = preprocess(model, image, V.round_imgsz(imgsz, model_stride(model)))
    adapter = adapter_for(model)
    with torch.no_grad():
        pred = adapter.rows(model(x))
    return to_detections(non_max_suppression(pred, conf, iou, adapter=adapter)[0], lb, model_names(model))


def model_names(model: nn.Module) -> dict[int, str]:
    names = getattr(model, "names", None)
    if isinstance(names, dict):
        return {int(k): str(v) for k, v in names.items()}
    if isinstance(names, (list, tuple)):
        return dict(enumerate(map(str, names)))
    return {}
