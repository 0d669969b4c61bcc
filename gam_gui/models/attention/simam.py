"""SimAM (Yang et al. 2021): a parameter-free 3-D gate from each activation's energy.

``SimAM(e_lambda=1e-4)`` (also ``SimAM(c1, e_lambda)`` in YOLO tutorials): for each channel,
``d = (x - mean)^2``, ``e = d / (4 (sum(d) / (HW - 1) + lambda)) + 0.5`` and ``out = x * sigmoid(e)``.
Its only state is ``e_lambda`` (checked: a small positive number) and a Sigmoid named ``activaton``
(sic) in the original code.
"""

from __future__ import annotations

import torch
from torch import nn

from gam_gui.models.attention import registry as R
from gam_gui.models.attention.base import AttentionBlock, gate_or_none, times


class SimAM(AttentionBlock):
    """``SimAM(e_lambda=1e-4)``; a leading channel count (YOLO registration) is accepted and unused."""

    def __init__(self, *args: float, e_lambda: float = 1e-4) -> None:
        super().__init__()
        if len(args) == 2:
            e_lambda = float(args[1])
        elif len(args) == 1 and isinstance(args[0], float):
            e_lambda = args[0]
        self.activaton = nn.Sigmoid()
        self.e_lambda = float(e_lambda)

    def gate(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) in (0.5, 1): a neuron that stands out from its channel gets a higher gate."""
        n = x.shape[2] * x.shape[3] - 1
        d = (x - x.mean((2, 3), keepdim=True)).pow(2)
        e = d / (4 * (d.sum((2, 3), keepdim=True) / n + vars(self)["e_lambda"])) + 0.5
        return torch.sigmoid(e)


def _run(block: nn.Module, x: torch.Tensor, policy: R.Policy) -> tuple[torch.Tensor, dict]:
    seen: dict[str, torch.Tensor] = {}
    return times(x, gate_or_none(policy, "energy", block.gate(x), seen)), seen


STRUCTURES = tuple(R.Structure("simam", "no weights, one lambda", {f"{name}?": (nn.Sigmoid,)}, {},
                               attrs={"e_lambda": R.small_float(0.0, 1.0)})
                   for name in ("activaton", "act", "activation", "sigmoid"))
GATES = (R.Gate("energy", "energy", "CxHxW", "how much each activation stands out from its channel (low energy)",
                low=0.5, high=1.0),)
ENTRY = R.BlockEntry(kind="SimAM", classes={"SimAM": SimAM, "simam_module": SimAM}, helpers={},
                     signature="SimAM(e_lambda=1e-4) | SimAM(c1, e_lambda=1e-4)", yaml_style="none",
                     structures=STRUCTURES, gates=GATES, run=_run, work=R.copies(6),
                     doc="out = x * sigmoid(energy(x))")
ENTRIES = (ENTRY,)
