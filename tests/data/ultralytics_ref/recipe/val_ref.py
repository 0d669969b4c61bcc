"""Run `model.val` (what `yolo val` runs) and print its numbers as JSON."""
import json
import sys
import time

import ultralytics
from ultralytics import YOLO

w, data, imgsz = sys.argv[1], sys.argv[2], int(sys.argv[3])
batch = int(sys.argv[4]) if len(sys.argv) > 4 else 16
t0 = time.perf_counter()
m = YOLO(w)
r = m.val(data=data, imgsz=imgsz, batch=batch, device="cpu", plots=False, workers=0, verbose=False,
          project="/tmp/v_work/valruns", name="v", exist_ok=True)
dt = time.perf_counter() - t0
names = r.names
b = r.box
print("JSON" + json.dumps({"version": ultralytics.__version__, "map50": float(b.map50), "map50_95": float(b.map),
                  "precision": float(b.mp), "recall": float(b.mr),
                  "per_class_ap50": {names[int(c)]: float(a) for c, a in zip(b.ap_class_index, b.ap50, strict=True)},
                  "per_class_ap50_95": {names[int(c)]: float(a) for c, a in zip(b.ap_class_index, b.ap, strict=True)},
                  "seconds": dt, "speed_ms": r.speed, "images": int(r.seen) if hasattr(r, "seen") else None}))
