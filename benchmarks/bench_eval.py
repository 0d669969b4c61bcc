"""``eval --data`` throughput against the bare batched forward passes, measured in the same run.

The dataset is the shapes validation set exported as a YOLO layout (PNG files, decoded from disk as
a user's data would be). "Bare forward" runs the network alone on batches that were decoded and
letterboxed beforehand (nothing else: no decoding, no NMS, no matching); "eval" is the whole
``score_dataset`` pass (DataLoader workers decoding and letterboxing, forward, NMS, per-image
matching), as ``gam-gui eval --data`` runs it. The ratio eval / bare says how much of the network's
own speed the evaluation keeps (issue 21 asks for >= 0.7 on a 2-core CPU). On a machine shared with other
jobs the two timings drift apart; ``forward_share_of_eval`` (the forward passes' time measured inside the
eval pass, over the pass's time) is the steadier reading of the same ratio.

    python benchmarks/bench_eval.py [--images 160] [--batch 16] [--imgsz 320] [--workers N] [--repeat 2]

With ``ultralytics`` installed (``--ultralytics``), also times ``yolo val`` on the same data.yaml.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=160)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--imgsz", type=int, default=320)
    ap.add_argument("--workers", type=int, default=None, help="decoding processes (default: eval's default)")
    ap.add_argument("--repeat", type=int, default=2, help="timed rounds of each; the best is reported")
    ap.add_argument("--weights", default=None)
    ap.add_argument("--protocol", default="coco")
    args = ap.parse_args()

    import numpy as np
    import torch

    from gam_gui.checkpoints import load_model
    from gam_gui.datasets import export_shapes, open_dataset
    from gam_gui.evaluation.runner import default_workers, iter_prepared, plan_batches, score_dataset
    from gam_gui.inference import model_stride
    from gam_gui.metrics import get_protocol

    model = load_model(args.weights, device="cpu")
    workers = default_workers() if args.workers is None else args.workers
    with tempfile.TemporaryDirectory() as tmp:
        yaml_path = export_shapes(Path(tmp) / "shapes", args.images, render_size=args.imgsz, progress=False)
        ds = open_dataset(yaml_path)
        p = get_protocol(args.protocol)
        stride = model_stride(model)
        shapes, batches = plan_batches(ds, p, args.imgsz, stride, args.batch)
        inputs = [torch.from_numpy(np.stack([it.image for it in items])).float().div_(255.0)
                  for items in iter_prepared(ds, p, args.imgsz, stride, shapes, batches, 0)]
        with torch.no_grad():
            model(inputs[0])  # warm-up
        bare, full, share = [], [], []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            with torch.no_grad():
                for x in inputs:
                    model(x)
            bare.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            res = score_dataset(model, ds, p, args.imgsz, batch=args.batch, workers=workers)
            full.append(time.perf_counter() - t0)
            share.append(res.forward_seconds / full[-1])
        m = res.scorers[0].metrics()
    n = args.images
    out = {"images": n, "batch": args.batch, "imgsz": args.imgsz, "workers": workers,
           "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(),
           "bare_forward_img_s": round(n / min(bare), 1), "eval_img_s": round(n / min(full), 1),
           "ratio": round(min(bare) / min(full), 3),
           # the network's own share of the eval pass, timed inside it: less sensitive to other jobs
           "forward_share_of_eval": round(max(share), 3), "map50": round(m.map50, 4), "protocol": p.name}
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
