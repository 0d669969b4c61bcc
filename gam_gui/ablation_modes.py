"""The ablation rules: which modes exist and how ``LAYER:MODE`` specs are written, with no torch.

Kept apart from :mod:`gam_gui.ablation` (which runs them and needs torch and the model) so that the
command line can check ``--blocks 22:off`` while it parses its arguments, before anything heavy is
imported, and so that :mod:`gam_gui.validate` stays a leaf that imports nothing of gam-gui.
Whether a LAYER is a GAM block is only known once the model is loaded
(:func:`gam_gui.ablation.resolve_blocks`).
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

MODES = ("on", "off", "channel-only", "spatial-only", "drop-top-k", "mean-gate")
#: the modes ``--ablate-each`` runs (``on`` is the reference)
ABLATION_MODES = MODES[1:]
DEFAULT_TOP_K = 8
_DROP_RE = re.compile(r"drop-top-(\d+|k)")
#: ``<gate>-only`` of any attention block (``height-only``, ``branch-hw-only``, ...); whether the block
#: has that gate is checked against the model (gam_gui.ablation.resolve_blocks)
_ONLY_RE = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*-only")


class AblationSpecError(ValueError):
    """A ``LAYER:MODE`` that cannot be read. ``spec``: the text (or value) refused."""

    def __init__(self, spec: object, message: str) -> None:
        super().__init__(message)
        self.spec = spec


@dataclass(frozen=True)
class AblationMode:
    """One mode, parsed: ``name`` is one of :data:`MODES`; ``k`` is used by ``drop-top-k``."""

    name: str
    k: int = DEFAULT_TOP_K

    @classmethod
    def parse(cls, text: str | AblationMode) -> AblationMode:
        if isinstance(text, AblationMode):
            return text
        t = str(text).strip().lower().replace("_", "-")
        m = _DROP_RE.fullmatch(t)
        if m:
            k = DEFAULT_TOP_K if m.group(1) == "k" else int(m.group(1))
            if k < 1:
                raise AblationSpecError(text, f"ablation mode {text!r}: k must be >= 1")
            return cls("drop-top-k", k)
        if t not in MODES and not (len(t) <= 40 and _ONLY_RE.fullmatch(t)):
            raise AblationSpecError(text, f"unknown ablation mode {str(text)[:40]!r}; choose one of "
                                          f"{', '.join(MODES)} (drop-top-k takes a number: drop-top-16)")
        return cls(t)

    @property
    def label(self) -> str:
        return f"drop-top-{self.k}" if self.name == "drop-top-k" else self.name


def parse_blocks(specs: Iterable[str] | Mapping[int, str | AblationMode]) -> dict[int, AblationMode]:
    """``["22:off", "26:spatial-only"]`` or ``{22: "off"}`` -> ``{22: AblationMode("off")}``."""
    if isinstance(specs, Mapping):
        items = list(specs.items())
    else:
        items = []
        for spec in specs:
            layer, sep, mode = str(spec).partition(":")
            if not sep or not layer.strip().lstrip("-").isdigit():
                raise AblationSpecError(spec, f"ablation {str(spec)[:40]!r}: expected LAYER:MODE, e.g. 22:off")
            items.append((int(layer), mode))
    out: dict[int, AblationMode] = {}
    for layer, mode in items:
        if not isinstance(layer, numbers.Integral) or isinstance(layer, bool):
            raise AblationSpecError(layer, f"ablation layer must be an integer, got {layer!r:.40}")
        out[int(layer)] = AblationMode.parse(mode)
    return out


def check_ablation(value: str, name: str = "ablation") -> str:
    """``LAYER:MODE`` (``22:off``, ``18:drop-top-16``) as a :mod:`gam_gui.validate` rule (argparse
    ``type=`` through ``validate.arg``); the value is returned unchanged."""
    parse_blocks([value])
    return value


def describe(spec: Mapping[int, AblationMode]) -> str:
    """``18:off 22:spatial-only``; ``none`` for the reference."""
    return " ".join(f"{k}:{m.label}" for k, m in sorted(spec.items())) or "none"
