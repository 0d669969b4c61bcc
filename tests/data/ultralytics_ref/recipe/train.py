"""Train the reference checkpoint: python train.py WORKDIR EPOCHS HOURS (ran as 40 0.2 -> 42 epochs, 12 min CPU)."""
import sys
from pathlib import Path

from ultralytics import YOLO

work = Path(sys.argv[1])
model = YOLO(str(Path(__file__).with_name("yolov8t-GAM.yaml")))
model.train(data=str(work / "shapes_train" / "data.yaml"), imgsz=160, epochs=int(sys.argv[2]), time=float(sys.argv[3]),
            batch=16, workers=0, device="cpu", amp=False, plots=False, seed=0, deterministic=True,
            project=str(work / "runs"), name="gam_t", exist_ok=True, patience=1000, close_mosaic=2)
