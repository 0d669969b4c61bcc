"""Record ultralytics' own matching and AP on small seeded cases (run once per version, in its venv):

    /tmp/v_ul84/bin/python make_unit_refs.py ../units.json     # adds the "8.4.190" entry
    /tmp/v_ul83/bin/python make_unit_refs.py ../units.json     # adds the "8.3.253" entry

Matching cases are crowded (several detections per box, boxes overlapping each other), where the 8.3
rule (best box per detection, then best-scored detection per box) and the 8.4 rule (greedy by score)
disagree; AP cases are whole data sets of TP flags with distinct scores (ties are ordered arbitrarily
by the package's unstable sort).
"""

import json
import sys
import types
from pathlib import Path

import numpy as np
import torch
import ultralytics
from ultralytics.engine.validator import BaseValidator
from ultralytics.utils.metrics import ap_per_class, box_iou


def bits(tp: np.ndarray) -> list[int]:
    """(k, 10) bool -> k integers, bit t = threshold t."""
    return (np.asarray(tp, np.int64) << np.arange(10)).sum(1).tolist()


def case(rng: np.random.Generator) -> dict:
    ng, nd, nc = int(rng.integers(2, 7)), int(rng.integers(2, 16)), int(rng.integers(1, 3))
    xy = rng.uniform(0, 30, (ng, 2))
    gt = np.concatenate([xy, xy + rng.uniform(20, 50, (ng, 2))], 1).round(1)
    src = rng.integers(0, ng, nd)
    det = (gt[src] + rng.normal(0, 8, (nd, 4))).round(1)
    det[:, 2:] = np.maximum(det[:, 2:], det[:, :2] + 2)
    return {"gt": gt.tolist(), "gt_cls": rng.integers(0, nc, ng).tolist(), "det": det.tolist(),
            "det_cls": rng.integers(0, nc, nd).tolist()}


def main() -> None:
    out = Path(sys.argv[1])
    data = json.loads(out.read_text()) if out.exists() else {}
    rng = np.random.default_rng(0)
    fake = types.SimpleNamespace(iouv=torch.linspace(0.5, 0.95, 10))
    cases, matching, ap_inputs = [], [], []
    for _ in range(120):
        c = case(rng)
        iou = box_iou(torch.tensor(c["gt"], dtype=torch.float32), torch.tensor(c["det"], dtype=torch.float32))
        tp = BaseValidator.match_predictions(fake, torch.tensor(c["det_cls"]), torch.tensor(c["gt_cls"]), iou)
        cases.append(c)
        matching.append(bits(tp.numpy()))
    ap_cases = []
    for _ in range(12):
        k, nc = int(rng.integers(5, 80)), int(rng.integers(1, 5))
        tp = rng.random((k, 10)) < rng.uniform(0.1, 0.9)
        tp = np.sort(tp, 1)[:, ::-1]  # a detection right at a strict threshold is right at the looser ones
        conf = (rng.permutation(k) / k + 1e-3).round(6)  # distinct scores
        pred_cls = rng.integers(0, nc, k)
        target_cls = rng.integers(0, nc + 1, int(rng.integers(1, 2 * k)))  # class nc: never predicted
        res = ap_per_class(tp, conf, pred_cls, target_cls)
        p, r, ap, cls = res[2], res[3], res[5], res[6]
        ap_inputs.append({"tp": bits(tp), "conf": conf.tolist(), "pred_cls": pred_cls.tolist(),
                          "target_cls": target_cls.tolist()})
        ap_cases.append({"classes": cls.tolist(), "ap": ap.round(12).tolist(), "p": p.round(12).tolist(),
                         "r": r.round(12).tolist()})
    if data.setdefault("inputs", {"matching": cases, "ap": ap_inputs}) != {"matching": cases, "ap": ap_inputs}:
        raise SystemExit("the seeded inputs differ from the stored ones")
    data[ultralytics.__version__] = {"matching_tp": matching, "ap": ap_cases}
    out.write_text(json.dumps(data, separators=(",", ":")))
    print(ultralytics.__version__, len(matching), len(ap_cases))


if __name__ == "__main__":
    main()
