"""The control dock: model, thresholds, CAM method/layers/target, GAM display options, GAM ablation.

It owns no state beyond its widgets: :meth:`ControlPanel.settings` builds a fresh
:class:`~gam_gui.analysis.Settings` from them each time, and ``changed`` fires on every edit. Each
control is persisted under its own QSettings key (``controls/<name>``). The ablation choice
(:class:`AblationPanel`, one mode per GAM block of the loaded model) is not persisted: a window
that opens with blocks switched off would show a model that is not the one in the file.
"""

from __future__ import annotations

import logging

from PyQt5.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QEvent, QObject, QSettings, Qt, pyqtSignal
from PyQt5.QtGui import QBrush, QColor, QFont
from PyQt5.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractScrollArea,
    QAbstractSlider,
    QAbstractSpinBox,
    QApplication,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from gam_gui.ablation import DEFAULT_TOP_K, MODES
from gam_gui.analysis import Settings
from gam_gui.explain.cams import AUTO, DISPLAY_NAMES, METHOD_CHOICES
from gam_gui.models import attention
from gam_gui.render import COLORMAPS
from gam_gui.ui.plain import clip, plain_label, plain_tooltip
from gam_gui.ui.settings_schema import FRAME_BOUND_TARGETS, SettingsReader

LOGGER = logging.getLogger(__name__)

TARGET_MODES = (("all", QT_TRANSLATE_NOOP("ControlPanel", "All detections")),
                ("class", QT_TRANSLATE_NOOP("ControlPanel", "Class scores")),
                ("box", QT_TRANSLATE_NOOP("ControlPanel", "Box outputs")),
                ("clicked", QT_TRANSLATE_NOOP("ControlPanel", "Clicked object")),
                ("cls", QT_TRANSLATE_NOOP("ControlPanel", "Class id")))
REDUCTIONS = (("mean", QT_TRANSLATE_NOOP("ControlPanel", "mean")), ("max", QT_TRANSLATE_NOOP("ControlPanel", "max")))
#: ``Settings.gam_view``: what the two GAM panels show.
GAM_VIEW_LABELS = (("gates", QT_TRANSLATE_NOOP("ControlPanel", "gates (channel | spatial)")),
                   ("gain", QT_TRANSLATE_NOOP("ControlPanel", "channel gate | block gain")),
                   ("channel-gain", QT_TRANSLATE_NOOP("ControlPanel", "channel-branch gain | spatial gate")),
                   ("spatial-gain", QT_TRANSLATE_NOOP("ControlPanel", "channel gate | spatial-branch gain")))
#: ``Settings.scale``: the heatmaps' colour range.
SCALE_LABELS = (("per-frame", QT_TRANSLATE_NOOP("ControlPanel", "per frame")),
                ("fixed", QT_TRANSLATE_NOOP("ControlPanel", "fixed over the video")))
#: Ablation modes (``gam_gui.ablation.MODES``, in that order) as the combo boxes name and explain them.
ABLATION_LABELS = {
    "on": (QT_TRANSLATE_NOOP("AblationPanel", "on"), QT_TRANSLATE_NOOP("AblationPanel", "as trained")),
    "off": (QT_TRANSLATE_NOOP("AblationPanel", "off"),
            QT_TRANSLATE_NOOP("AblationPanel", "the block returns its input")),
    "channel-only": (QT_TRANSLATE_NOOP("AblationPanel", "channel only"),
                     QT_TRANSLATE_NOOP("AblationPanel", "the channel gate only (the spatial gate skipped)")),
    "spatial-only": (QT_TRANSLATE_NOOP("AblationPanel", "spatial only"),
                     QT_TRANSLATE_NOOP("AblationPanel", "the spatial gate only (the channel gate skipped)")),
    "drop-top-k": (QT_TRANSLATE_NOOP("AblationPanel", "drop top {0} channels"),
                   QT_TRANSLATE_NOOP("AblationPanel", "the block as trained, then the {0} channels with the "
                                                      "largest channel attention set to zero")),
    "mean-gate": (QT_TRANSLATE_NOOP("AblationPanel", "mean gate"),
                  QT_TRANSLATE_NOOP("AblationPanel", "each gate replaced by its mean over the frame: the scale "
                                                     "stays, where it attends goes")),
}
#: ``maps_of``: which model the CAM and GAM panels come from in the ablation view.
MAPS_OF_LABELS = (("trained", QT_TRANSLATE_NOOP("AblationPanel", "trained model")),
                  ("ablated", QT_TRANSLATE_NOOP("AblationPanel", "ablated model")))
CONF_SCALE = 1000  # the confidence slider has 0.001 steps: untrained or weak models need low thresholds
DEFAULT_IMGSZ = 640


def cuda_available() -> bool:
    """Whether a CUDA device can be offered (the only place the ui asks torch anything)."""
    try:
        import torch

        return bool(torch.cuda.is_available())
    except Exception:  # noqa: BLE001 - a broken CUDA install means "CPU only", not a crash
        return False


def worker_takes_maps_of() -> bool:
    """Whether the analysis worker can show the ablated model's maps (``set_settings(maps_of=...)``)."""
    import inspect

    from gam_gui.ui.worker import AnalysisWorker

    return "maps_of" in inspect.signature(AnalysisWorker.set_settings).parameters


def available_devices() -> list[tuple[str, str]]:
    devices = [("cpu", "CPU")]
    if cuda_available():
        devices.append(("cuda", "CUDA (GPU)"))
    return devices


def _slider(lo: int, hi: int, value: int) -> QSlider:
    s = QSlider(Qt.Horizontal)
    s.setRange(lo, hi)
    s.setValue(value)
    return s


class WheelGuard(QObject):
    """Event filter for the dock's value controls (combo boxes, spin boxes, sliders, buttons, lists).

    * The mouse wheel over an unfocused control scrolls the dock instead of changing the value under
      the cursor (the issue: scrolling the dock turned "Channel reduction" from mean to max): the
      event goes to the enclosing scroll area's scroll bar. A focused control (clicked or tabbed
      into) still takes the wheel, as users expect.
    * Space pressed in a focused control is the control's own (toggle a check box, open a combo,
      type in a spin box), not the window's Play/Pause shortcut: accepting the ShortcutOverride
      event keeps the shortcut from firing there.
    """

    SPACE_OWNERS = (QComboBox, QAbstractSpinBox, QAbstractButton, QAbstractItemView)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        kind = event.type()
        if kind == QEvent.Wheel and isinstance(obj, QWidget) and not obj.hasFocus():
            area = _scroll_area_of(obj)
            if area is not None:  # scroll the dock explicitly: Qt passes only real (spontaneous) wheels on
                QApplication.sendEvent(area.verticalScrollBar(), event)
            else:
                event.ignore()  # no scroll area: let the parents have it
            return True
        if (kind == QEvent.ShortcutOverride and event.key() == Qt.Key_Space
                and not event.modifiers() and isinstance(obj, self.SPACE_OWNERS)):
            event.accept()
        return False

    def guard(self, root: QWidget) -> None:
        """Install on every value control under ``root``; they take focus on click or Tab, not wheel."""
        for w in root.findChildren(QWidget):
            if isinstance(w, (QComboBox, QAbstractSpinBox, QAbstractSlider)):
                w.setFocusPolicy(Qt.StrongFocus)
                w.installEventFilter(self)
            elif isinstance(w, self.SPACE_OWNERS):
                w.installEventFilter(self)


def _scroll_area_of(widget: QWidget) -> QAbstractScrollArea | None:
    w = widget.parentWidget()
    while w is not None and not isinstance(w, QAbstractScrollArea):
        w = w.parentWidget()
    return w


def _with_label(widget: QWidget, label: QLabel) -> QWidget:
    box = QWidget()
    lay = QHBoxLayout(box)
    lay.setContentsMargins(0, 0, 0, 0)
    lay.addWidget(widget, 1)
    label.setMinimumWidth(44)
    label.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
    lay.addWidget(label)
    return box


class ControlPanel(QWidget):
    """Every analysis and display control; see the module docstring."""

    changed = pyqtSignal()
    open_weights_requested = pyqtSignal()
    device_changed = pyqtSignal(str)

    def __init__(self, parent: QWidget | None = None, devices: list[tuple[str, str]] | None = None) -> None:
        super().__init__(parent)
        self._updating = False
        self._pending_layers: tuple[int, ...] = ()
        self._pending_gam_layer: int | None = None
        self._pending_cls = 0
        self._names: dict[int, str] = {}
        root = QVBoxLayout(self)
        root.setContentsMargins(6, 6, 6, 6)

        # -- model --
        g = QGroupBox(self.tr("Model"))
        f = QFormLayout(g)
        self.weights_button = QPushButton(self.tr("Open weights..."))
        self.weights_button.setToolTip(
            self.tr("Load a gam-gui, YOLOv5 or YOLOv7 checkpoint (.pt); you can also drop it here"))
        self.weights_button.clicked.connect(self.open_weights_requested)
        f.addRow(self.weights_button)
        # Plain text: the model's file name, class names and the loader's words come from the file.
        self.model_label = plain_label(QLabel(self.tr("no model loaded")))
        self.model_label.setWordWrap(True)
        f.addRow(self.tr("Model:"), self.model_label)
        self.classes_label = plain_label(QLabel("-"))
        self.classes_label.setWordWrap(True)
        f.addRow(self.tr("Classes:"), self.classes_label)
        self.gam_label = plain_label(QLabel("-"))
        self.gam_label.setWordWrap(True)
        f.addRow(self.tr("Attention:"), self.gam_label)
        self.device = QComboBox()
        for key, label in devices if devices is not None else available_devices():
            self.device.addItem(label, key)
        self.device.currentIndexChanged.connect(self._device_changed)
        f.addRow(self.tr("Device:"), self.device)
        root.addWidget(g)

        # -- detection --
        g = QGroupBox(self.tr("Detection"))
        f = QFormLayout(g)
        self.conf = _slider(1, CONF_SCALE, 250)
        self.conf_label = QLabel()
        self.conf.setToolTip(self.tr("Confidence threshold"))
        f.addRow(self.tr("Confidence:"), _with_label(self.conf, self.conf_label))
        self.iou = _slider(1, 100, 45)
        self.iou_label = QLabel()
        self.iou.setToolTip(self.tr("NMS IoU threshold"))
        f.addRow(self.tr("IoU:"), _with_label(self.iou, self.iou_label))
        self.imgsz = QSpinBox()
        self.imgsz.setRange(64, 1920)
        self.imgsz.setSingleStep(32)
        self.imgsz.setValue(DEFAULT_IMGSZ)
        self.imgsz.setSuffix(self.tr(" px"))
        self.imgsz.setToolTip(self.tr("Inference size (the long side of the network input)"))
        self.imgsz.setKeyboardTracking(False)
        f.addRow(self.tr("Image size:"), self.imgsz)
        root.addWidget(g)

        # -- CAM --
        g = QGroupBox(self.tr("Explanation (CAM)"))
        f = QFormLayout(g)
        self.method = QComboBox()
        for key in METHOD_CHOICES:
            label = {"none": self.tr("none (off)"), AUTO: self.tr("Auto (Grad-CAM / HiResCAM per object)")}
            self.method.addItem(label.get(key, DISPLAY_NAMES[key]), key)
        f.addRow(self.tr("Method:"), self.method)
        self.layers = QListWidget()
        self.layers.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.layers.setToolTip(self.tr("Layers whose CAMs are averaged; none selected = the GAM blocks "
                                       "(or the layers feeding the head). Ctrl/Shift-click to choose several."))
        mono = QFont("Monospace")
        mono.setStyleHint(QFont.TypeWriter)
        self.layers.setFont(mono)
        self.layers.setMinimumHeight(150)
        f.addRow(QLabel(self.tr("Layers (index, type, shape):")))
        f.addRow(self.layers)
        self.layers_default = QPushButton(self.tr("Default layers"))
        self.layers_default.setToolTip(self.tr("Clear the selection: use the GAM blocks"))
        self.layers_default.clicked.connect(self.layers.clearSelection)
        f.addRow(self.layers_default)
        self.target = QComboBox()
        for key, label in TARGET_MODES:
            self.target.addItem(self.tr(label), key)
        f.addRow(self.tr("Target:"), self.target)
        self.target_index = QSpinBox()
        self.target_index.setRange(0, 9999)
        self.target_index.setPrefix("#")
        self.target_index.setToolTip(self.tr("The detection the CAM explains (click a box to choose it)"))
        f.addRow(self.tr("Object:"), self.target_index)
        self.target_class = QComboBox()
        self.target_class.setToolTip(self.tr("Explain every detection of this class"))
        f.addRow(self.tr("Class:"), self.target_class)
        self.renorm = QCheckBox(self.tr("Renormalise inside boxes"))
        f.addRow(self.renorm)
        self.cam_every = QSpinBox()
        self.cam_every.setRange(1, 60)
        self.cam_every.setToolTip(self.tr("On a playing video or camera, compute the CAM only every N frames "
                                          "(detections and GAM maps still every frame)"))
        f.addRow(self.tr("CAM every N frames:"), self.cam_every)
        root.addWidget(g)

        # -- display --
        g = QGroupBox(self.tr("Display"))
        f = QFormLayout(g)
        self.gam_layer = QComboBox()
        self.gam_layer.addItem(self.tr("first"), None)
        self.gam_layer.setToolTip(self.tr("Which attention block (GAM, CBAM, SE, CoordAtt, ...) the two attention "
                                          "panels and the channel chart show"))
        f.addRow(self.tr("Attention block:"), self.gam_layer)
        self._blocks: dict[int, tuple[str, str]] = {}  # layer -> (kind, variant) of the loaded model
        self.gate = QComboBox()
        self.gate.setToolTip(self.tr("Which gate of the block the first attention panel shows; the second shows "
                                     "the next gate (or, for a one-gate block, the block's gain)"))
        f.addRow(self.tr("Gate:"), self.gate)
        self.gam_layer.currentIndexChanged.connect(self._fill_gates)
        self.reduction = QComboBox()
        for key, label in REDUCTIONS:
            self.reduction.addItem(self.tr(label), key)
        self.reduction.setToolTip(self.tr("How the GAM maps are reduced over channels"))
        f.addRow(self.tr("Channel reduction:"), self.reduction)
        self.gam_view = QComboBox()
        for key, label in GAM_VIEW_LABELS:
            self.gam_view.addItem(self.tr(label), key)
        self.gam_view.setToolTip(self.tr("What the two attention panels show: the gates, or beside a gate the "
                                         "gain, log2 of the feature energy after / before the block or one branch "
                                         "(red: made stronger, blue: weaker; the branch gains exist for GAM only)"))
        f.addRow(self.tr("Attention panels:"), self.gam_view)
        self.scale = QComboBox()
        for key, label in SCALE_LABELS:
            self.scale.addItem(self.tr(label), key)
        self.scale.setToolTip(self.tr("Colour range of the heatmaps: each frame's own, or held over the frames "
                                      "of a video so that a colour means the same value on every frame"))
        f.addRow(self.tr("Colour scale:"), self.scale)
        self.colormap = QComboBox()
        for c in COLORMAPS:
            self.colormap.addItem(c, c)
        f.addRow(self.tr("Colormap:"), self.colormap)
        self.alpha = _slider(0, 100, 50)
        self.alpha_label = QLabel()
        f.addRow(self.tr("Overlay alpha:"), _with_label(self.alpha, self.alpha_label))
        root.addWidget(g)
        root.addStretch(1)

        for sig in (self.conf.valueChanged, self.iou.valueChanged, self.imgsz.valueChanged,
                    self.method.currentIndexChanged, self.layers.itemSelectionChanged,
                    self.target.currentIndexChanged, self.target_index.valueChanged,
                    self.target_class.currentIndexChanged, self.renorm.toggled, self.cam_every.valueChanged,
                    self.gam_layer.currentIndexChanged, self.gate.currentIndexChanged,
                    self.reduction.currentIndexChanged,
                    self.gam_view.currentIndexChanged, self.scale.currentIndexChanged,
                    self.colormap.currentIndexChanged, self.alpha.valueChanged):
            sig.connect(self._emit_changed)
        self.wheel_guard = WheelGuard(self)
        self.wheel_guard.guard(self)
        self._update_labels()

    # -- reading -----------------------------------------------------------------------------------
    def target_value(self) -> str | int:
        mode = self.target.currentData()
        if mode == "clicked":
            return int(self.target_index.value())
        if mode == "cls":
            cls = self.target_class.currentData()
            return f"cls:{int(cls if cls is not None else self._pending_cls)}"
        return mode

    def selected_layers(self) -> tuple[int, ...] | None:
        rows = sorted(self.layers.row(it) for it in self.layers.selectedItems())
        idx = tuple(int(self.layers.item(r).data(Qt.UserRole)) for r in rows)
        return idx or None

    def settings(self) -> Settings:
        """A fresh Settings snapshot of every control."""
        return Settings(method=self.method.currentData(), layers=self.selected_layers(), target=self.target_value(),
                        conf=self.conf.value() / CONF_SCALE, iou=self.iou.value() / 100, imgsz=self.imgsz.value(),
                        reduction=self.reduction.currentData(), renorm_boxes=self.renorm.isChecked(),
                        colormap=self.colormap.currentData(), alpha=self.alpha.value() / 100,
                        gam_layer=self.gam_layer.currentData(), scale=self.scale.currentData(),
                        gam_view=self.gam_view.currentData(), gate=self.gate.currentData() or None)

    def device_value(self) -> str:
        return self.device.currentData() or "cpu"

    # -- writing -----------------------------------------------------------------------------------
    def set_conf(self, conf: float) -> None:
        self.conf.setValue(int(round(conf * CONF_SCALE)))

    def set_target_index(self, k: int) -> None:
        """Explain detection ``k`` (what clicking a box does); one ``changed``."""
        self._updating = True
        try:
            self.target_index.setValue(int(k))
            self.target.setCurrentIndex(self.target.findData("clicked"))
        finally:
            self._updating = False
        self._emit_changed()

    def set_device(self, device: str) -> bool:
        i = self.device.findData(device)
        if i < 0:
            return False
        self._updating = True
        try:
            self.device.setCurrentIndex(i)
        finally:
            self._updating = False
        return True

    def set_imgsz(self, imgsz: int) -> None:
        self.imgsz.setValue(int(imgsz))

    def set_model_info(self, info) -> None:
        """Fill the model labels, the layer list, the GAM block and class choices from a ModelInfo."""
        self._updating = True
        try:
            keep_layers = set(self.selected_layers() or self._pending_layers)
            self._pending_layers = ()
            keep_gam = self.gam_layer.currentData() if self._pending_gam_layer is None else self._pending_gam_layer
            self._pending_gam_layer = None
            keep_cls = self.target_class.currentData()
            keep_cls = self._pending_cls if keep_cls is None else keep_cls
            self._names = dict(info.names)
            self.model_label.setText(clip(f"{info.name}  ({info.device})", 300))
            self.model_label.setToolTip(plain_tooltip(info.path))
            names = ", ".join(f"{k}: {v}" for k, v in sorted(info.names.items()))
            self.classes_label.setText(clip(f"{len(info.names)} - {names}", 600) if info.names else self.tr("none"))
            self.classes_label.setToolTip(plain_tooltip(names))
            others = [b for b in getattr(info, "blocks", ()) if b[1] != "GAM"]
            if info.gam_layers or others:
                text = self.tr("{0} GAM block(s) at layer(s) {1}").format(
                    len(info.gam_layers), ", ".join(map(str, info.gam_layers)) or "-")
                if others:
                    text += "; " + self.tr("other attention blocks: {0}").format(
                        ", ".join(f"{k} @ {i}" for i, k, _ in others))
                self.gam_label.setText(text)
                # the loader's words: which GAM forward, and why (plain: they may quote the file)
                self.gam_label.setToolTip(plain_tooltip(info.gam_variant))
                self.gam_label.setStyleSheet("")
            else:
                self.gam_label.setText(self.tr("no GAM blocks found: the GAM panels stay empty; the CAM uses the "
                                               "layers feeding the head ({0})").format(
                    ", ".join(map(str, info.default_layers))))
                self.gam_label.setToolTip("")
                self.gam_label.setStyleSheet("color: #d08000;")
            self.layers.clear()
            for li in info.layers[:-1]:  # the head itself is no CAM layer
                it = QListWidgetItem(li.label())
                it.setData(Qt.UserRole, li.index)
                if li.is_gam:
                    f = it.font()
                    f.setBold(True)
                    it.setFont(f)
                    it.setForeground(QBrush(QColor(200, 90, 0)))
                    it.setToolTip(self.tr("a GAM block (used by default)"))
                elif li.blocks:
                    it.setForeground(QBrush(QColor(0, 130, 150)))
                    it.setToolTip(self.tr("an attention block ({0}): suggested for CAM").format(", ".join(li.blocks)))
                elif li.suggested:
                    it.setToolTip(self.tr("feeds the detection head: suggested for CAM"))
                self.layers.addItem(it)
                it.setSelected(li.index in keep_layers)
            blocks = tuple(getattr(info, "blocks", ())) or tuple((i, "GAM", "") for i in info.gam_layers)
            self._blocks = {int(i): (kind, variant) for i, kind, variant in blocks}
            self.gam_layer.clear()
            self.gam_layer.addItem(self.tr("first"), None)
            for i, (kind, variant) in self._blocks.items():
                self.gam_layer.addItem(block_label(i, kind, variant), i)
                self.gam_layer.setItemData(self.gam_layer.count() - 1, self.tr(
                    "the {0} block at layer {1}; the loader inferred its forward: {2}").format(
                    kind, i, variant or "-"), Qt.ToolTipRole)
            gi = self.gam_layer.findData(keep_gam) if keep_gam is not None else 0
            self.gam_layer.setCurrentIndex(max(0, gi))
            self._fill_gates()
            self.target_class.clear()
            for k, v in sorted(info.names.items()):
                self.target_class.addItem(clip(f"{k}: {v}", 120), int(k))
            ci = self.target_class.findData(keep_cls)
            self.target_class.setCurrentIndex(max(0, ci))
        finally:
            self._updating = False
        self._update_labels()

    def set_model_failed(self) -> None:
        if self.layers.count() == 0:
            self.model_label.setText(self.tr("no model loaded"))

    # -- persistence -------------------------------------------------------------------------------
    def save(self, qs: QSettings) -> None:
        """Each control under its own key."""
        s = self.settings()
        qs.setValue("controls/conf", s.conf)
        qs.setValue("controls/iou", s.iou)
        qs.setValue("controls/imgsz", s.imgsz)
        qs.setValue("controls/method", s.method)
        layers = self.selected_layers() or self._pending_layers
        qs.setValue("controls/layers", ",".join(map(str, layers or ())))
        qs.setValue("controls/target_mode", self.target.currentData())
        qs.setValue("controls/target_index", self.target_index.value())
        cls = self.target_class.currentData()
        qs.setValue("controls/target_class", int(cls if cls is not None else self._pending_cls))
        qs.setValue("controls/renorm_boxes", s.renorm_boxes)
        qs.setValue("controls/cam_every", self.cam_every.value())
        gl = self.gam_layer.currentData() if self._pending_gam_layer is None else self._pending_gam_layer
        qs.setValue("controls/gam_layer", -1 if gl is None else int(gl))
        qs.setValue("controls/reduction", s.reduction)
        qs.setValue("controls/gam_view", s.gam_view)
        qs.setValue("controls/scale", s.scale)
        qs.setValue("controls/colormap", s.colormap)
        qs.setValue("controls/alpha", s.alpha)
        qs.setValue("controls/device", self.device_value())

    def restore(self, qs: QSettings) -> SettingsReader:
        """Restore what :meth:`save` wrote, each key through :data:`settings_schema.SCHEMA` (the CLI's
        rules): a bad value keeps the default.

        A target tied to one frame (a clicked detection) goes back to "All detections": at the next
        start nothing is clicked (issue 25.10). Returns the reader: its ``notices`` and ``bad`` values."""
        read = SettingsReader(qs)
        self._updating = True
        try:
            def choose(combo: QComboBox, value: object) -> None:
                i = combo.findData(value)
                if i >= 0:
                    combo.setCurrentIndex(i)

            self.set_conf(read.get("controls/conf"))
            self.iou.setValue(int(round(read.get("controls/iou") * 100)))
            self.imgsz.setValue(read.get("controls/imgsz"))
            choose(self.method, read.get("controls/method"))
            self._pending_layers = read.get("controls/layers")
            mode = read.get("controls/target_mode")
            choose(self.target, "all" if mode in FRAME_BOUND_TARGETS else mode)
            self.target_index.setValue(read.get("controls/target_index"))
            self._pending_cls = read.get("controls/target_class")
            self.renorm.setChecked(read.get("controls/renorm_boxes"))
            self.cam_every.setValue(read.get("controls/cam_every"))
            gl = read.get("controls/gam_layer")
            self._pending_gam_layer = None if gl < 0 else gl
            choose(self.reduction, read.get("controls/reduction"))
            choose(self.gam_view, read.get("controls/gam_view"))
            choose(self.scale, read.get("controls/scale"))
            choose(self.colormap, read.get("controls/colormap"))
            self.alpha.setValue(int(round(read.get("controls/alpha") * 100)))
            choose(self.device, read.get("controls/device"))
        finally:
            self._updating = False
        self._update_labels()
        return read

    # -- internals ---------------------------------------------------------------------------------
    def _fill_gates(self, *_args) -> None:
        """The gate choice of the shown block: its gates (each with its meaning as a tooltip), disabled
        for GAM (its panels show both gates; the "Attention panels" choice adds its gains) and for a
        block with one gate."""
        layer = self.gam_layer.currentData()
        if layer is None and self._blocks:
            layer = next(iter(self._blocks))
        kind, variant = self._blocks.get(layer, ("", "")) if layer is not None else ("", "")
        keep = self.gate.currentData()
        self.gate.blockSignals(True)
        try:
            self.gate.clear()
            for gate in block_gates(kind, variant):
                self.gate.addItem(gate.name, gate.name)
                self.gate.setItemData(self.gate.count() - 1, gate.meaning, Qt.ToolTipRole)
            i = self.gate.findData(keep)
            self.gate.setCurrentIndex(max(0, i))
        finally:
            self.gate.blockSignals(False)
        self.gate.setEnabled(kind not in ("", "GAM") and self.gate.count() > 1)

    def _update_labels(self) -> None:
        self.conf_label.setText(f"{self.conf.value() / CONF_SCALE:.3f}")
        self.iou_label.setText(f"{self.iou.value() / 100:.2f}")
        self.alpha_label.setText(f"{self.alpha.value() / 100:.2f}")
        mode = self.target.currentData()
        self.target_index.setEnabled(mode == "clicked")
        self.target_class.setEnabled(mode == "cls")

    def _emit_changed(self, *_args) -> None:
        self._update_labels()
        if not self._updating:
            self.changed.emit()

    def _device_changed(self, *_args) -> None:
        if not self._updating:
            self.device_changed.emit(self.device_value())


def block_label(index: int, kind: str, variant: str) -> str:
    """``layer 5: CBAM (ultralytics)``: an attention block as the window's lists name it."""
    return QCoreApplication.translate("ControlPanel", "layer {0}: {1}").format(index, kind) + (
        f" ({variant})" if variant else "")


def block_gates(kind: str, variant: str) -> list:
    """The registry's gates of a block of ``kind`` and ``variant`` (those the variant computes)."""
    try:
        e = attention.entry(kind)
    except KeyError:
        return []
    absent = e.absent_gates.get(variant, ())
    return [g for g in e.gates if g.name not in absent]


def block_modes(kind: str, variant: str) -> tuple[str, ...]:
    """The ablation modes of a block of ``kind`` and ``variant``, from the registry (GAM's for GAM)."""
    try:
        return attention.entry(kind).modes_for(variant)
    except KeyError:
        return tuple(MODES[1:])


class AblationPanel(QGroupBox):
    """The "Ablation" group: one mode combo per GAM block of the loaded model and the check box that
    turns the "compare with ablation" view on.

    Choosing a mode other than ``on`` checks the box (that is what the user asked to see);
    unchecking it restores the normal view and keeps the chosen modes for the next time. A model
    without GAM blocks gets no combos, a disabled check box and a note. ``changed`` fires on every
    edit; :meth:`spec` is what the worker runs.
    """

    changed = pyqtSignal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTitle(self.tr("Ablation"))
        self.setToolTip(self.tr("Switch attention blocks off, keep one of their gates or flatten them, and see "
                                "which detections the model keeps, loses or gains on this frame"))
        self._gam_layers: tuple[int, ...] = ()
        self.combos: dict[int, QComboBox] = {}
        v = QVBoxLayout(self)
        self.enabled = QCheckBox(self.tr("Compare with ablation"))
        self.enabled.setToolTip(self.tr("Detections panel: kept boxes with their score change, lost boxes dashed "
                                        "red, new boxes green; the status bar sums it up"))
        self.enabled.toggled.connect(self._emit_changed)
        v.addWidget(self.enabled)
        self.form = QFormLayout()
        v.addLayout(self.form)
        # Which model the CAM and GAM panels show while the ablation view is on (issue 25.6).
        maps_row = QFormLayout()
        self.maps_of = QComboBox()
        for key, label in MAPS_OF_LABELS:
            self.maps_of.addItem(self.tr(label), key)
        self.maps_of.setToolTip(self.tr("The CAM and GAM panels show the maps of the model as trained, or of the "
                                        "ablated model; each panel's title says which"))
        self.maps_of.currentIndexChanged.connect(self._emit_changed)
        maps_row.addRow(self.tr("Maps of:"), self.maps_of)
        v.addLayout(maps_row)
        self.reset = QPushButton(self.tr("All blocks on"))
        self.reset.setToolTip(self.tr("Set every block back to on (as trained)"))
        self.reset.clicked.connect(self.reset_modes)
        v.addWidget(self.reset)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #d08000;")
        v.addWidget(self.note)
        self.wheel_guard = WheelGuard(self)
        self._comparing = False
        self.maps_supported = worker_takes_maps_of()
        self.maps_of.setEnabled(self.maps_supported)
        if not self.maps_supported:
            self.maps_of.setToolTip(self.tr("This build shows the maps of the model as trained only"))
        self.set_layers(())
        self.note.setText(self.tr("no model loaded"))

    # -- reading -----------------------------------------------------------------------------------
    def modes(self) -> dict[int, str]:
        """Every GAM block's chosen mode, ``on`` included."""
        return {layer: c.currentData() for layer, c in self.combos.items()}

    def spec(self) -> dict[int, str]:
        """The blocks to ablate (layer -> mode), or ``{}`` when the ablation view is off."""
        if not self.enabled.isChecked():
            return {}
        return {layer: mode for layer, mode in self.modes().items() if mode != "on"}

    def maps_choice(self) -> str:
        """``trained`` or ``ablated``: which model the map panels show in the ablation view."""
        return self.maps_of.currentData() or "trained"

    def worker_options(self) -> dict:
        """What the window passes to ``AnalysisWorker.set_settings`` for the ablation view: the blocks
        to ablate and, where the worker can make them, which model's maps to show."""
        options: dict = {"ablation": self.spec()}
        if self.maps_supported:
            options["maps_of"] = self.maps_choice()
        return options

    # -- writing -----------------------------------------------------------------------------------
    def set_layers(self, blocks: tuple | list) -> None:
        """One combo per attention block of a newly loaded model (all ``on``), offering that block's own
        modes from the registry (CoordAtt: off, height only, width only, mean gate); the view is turned
        off. ``blocks``: (layer, kind, variant) tuples, or bare layer indices for GAM blocks."""
        rows = [(int(b), "GAM", "") if isinstance(b, int) else (int(b[0]), str(b[1]), str(b[2])) for b in blocks]
        self._gam_layers = tuple(i for i, _, _ in rows)
        for c in self.combos.values():
            self.form.removeRow(c)
        self.combos = {}
        for layer, kind, variant in rows:
            c = QComboBox()
            for key in ("on", *block_modes(kind, variant)):
                label, tip = self.mode_text(key)
                c.addItem(label, key)
                c.setItemData(c.count() - 1, tip, Qt.ToolTipRole)
            c.setToolTip(self.tr("What {0} block {1} does while the ablation view is on").format(kind, layer))
            c.currentIndexChanged.connect(lambda _i, layer=layer: self._mode_changed(layer))
            self.form.addRow(self.tr("Layer {0} ({1}):").format(layer, kind), c)
            self.combos[layer] = c
        self.wheel_guard.guard(self)
        self.enabled.blockSignals(True)
        self.enabled.setChecked(False)
        self.enabled.blockSignals(False)
        self.enabled.setEnabled(bool(self._gam_layers))
        self.reset.setEnabled(bool(self._gam_layers))
        self._update_note()

    def set_mode(self, layer: int, mode: str) -> None:
        """Choose ``mode`` for block ``layer`` (as picking it in its combo does)."""
        c = self.combos.get(int(layer))
        if c is None:
            raise KeyError(f"layer {layer} is not an attention block of this model")
        i = c.findData(mode)
        if i < 0:
            modes = [c.itemData(k) for k in range(c.count())]
            raise ValueError(f"layer {layer} has no ablation mode {mode!r}; choose one of {', '.join(modes)}")
        c.setCurrentIndex(i)

    def mode_text(self, key: str) -> tuple[str, str]:
        """A mode's label and tooltip in the window's language; a registry's ``<gate>-only`` mode that
        GAM lacks (``height-only``, ``branch-cw-only``) is named after its gate."""
        if key in ABLATION_LABELS:
            label, tip = ABLATION_LABELS[key]
            return self.tr(label).format(DEFAULT_TOP_K), self.tr(tip).format(DEFAULT_TOP_K)
        if key.endswith("-only"):
            gate = key[: -len("-only")]
            return (self.tr("{0} only").format(gate),
                    self.tr("the {0} gate only (the block's other gates skipped)").format(gate))
        return key, key

    def reset_modes(self) -> None:
        """Every block back to ``on``: the normal view (one ``changed``)."""
        for c in self.combos.values():
            c.blockSignals(True)
            c.setCurrentIndex(0)
            c.blockSignals(False)
        self._emit_changed()

    def set_comparing(self, comparing: bool) -> None:
        """While two models are compared the comparison is shown and no ablation runs: say so."""
        self._comparing = bool(comparing)
        self._update_note()

    # -- internals ---------------------------------------------------------------------------------
    def _update_note(self) -> None:
        if not self._gam_layers:
            text = self.tr("this model has no GAM blocks to ablate")
        elif self._comparing:
            text = self.tr("while two models are compared, the comparison is shown instead of the ablation")
        else:
            text = ""
        self.note.setText(text)
        self.note.setVisible(bool(text))

    def _mode_changed(self, layer: int) -> None:
        if self.combos[layer].currentData() != "on" and not self.enabled.isChecked():
            self.enabled.blockSignals(True)  # one ``changed`` for the mode and the check together
            self.enabled.setChecked(True)
            self.enabled.blockSignals(False)
        self._emit_changed()

    def _emit_changed(self, *_args) -> None:
        self.changed.emit()
