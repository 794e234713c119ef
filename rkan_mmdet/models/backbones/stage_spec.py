"""What a stage is to RKAN: the module ``x`` enters and the one ``y`` leaves (docs/families.md §1)."""
from dataclasses import dataclass

from torch import nn


@dataclass
class Stage:
    """One stage of a backbone.

    Attributes:
        key: the block's key in ``rkan_layers`` (``layer4``, ``stage4``).
        entry: ``x`` is this module's first input.
        exit: ``y`` is this module's output (its first input with ``exit_input``).
        exit_input: ``y`` is the input of ``exit`` (DenseNet's final activation).
        tokens: ``x`` and ``y`` are (B, H*W, C) token sequences and each
            module's second argument is its (H, W) (Swin's stages and blocks).
    """

    key: str
    entry: nn.Module
    exit: nn.Module
    exit_input: bool = False
    tokens: bool = False


@dataclass
class StageShape:
    """What one stage does to the probe: channels in/out and spatial stride."""

    in_channels: int
    out_channels: int
    stride: int
