"""Run an RKAN block beside a stage through forward hooks, without copying any forward.

:class:`StageTap` connects one :class:`~..layers.rkan_block.RKANBlock` to one
:class:`~.stages.Stage`:

.. code-block:: text

    entry module (pre-hook: keep x)  ...  exit module (hook: y -> block(x, y))

When entry and exit are the same module (the ResNet family) one forward hook
does it all, reading ``x`` from the hook's ``args``. When ``y`` is the input
of the exit module (DenseNet's last stage, before its final ReLU), a
pre-hook on it replaces that input. The backbone's own
forward, ``out_indices``, plugins, ``with_cp`` inside blocks and every
subclass override stay untouched; only the stage output that the rest of the
forward sees becomes ``mechanism(y, r)``.

The hooks are bound methods of the tap, and the tap holds the block itself,
so ``copy.deepcopy`` (MMEngine's EMA) gives the copy hooks that run the
*copied* blocks. ``torch.onnx.export`` (TorchScript and dynamo) and
``torch.export`` trace hooks like any other Python in the forward.
"""
from typing import Optional, Tuple

from torch import Tensor, nn
from torch.utils.checkpoint import checkpoint

from .stages import Stage


class StageTap:
    """The hooks that run ``block`` beside ``stage``.

    Args:
        stage: where ``x`` enters and ``y`` leaves.
        block: ``forward(x, y) -> y'``.
        with_cp: recompute the block in backward (activation checkpointing)
            when ``x`` requires grad, as mmdet's ``with_cp`` does for blocks.
    """

    def __init__(self, stage: Stage, block: nn.Module, with_cp: bool = False) -> None:
        self.block = block
        self.with_cp = with_cp
        self._x: Optional[Tensor] = None
        if stage.entry is stage.exit and not stage.exit_input:
            stage.exit.register_forward_hook(self.run_with_input)
            return
        stage.entry.register_forward_pre_hook(self.keep_input)
        if stage.exit_input:
            stage.exit.register_forward_pre_hook(self.run_before_exit)
        else:
            stage.exit.register_forward_hook(self.run_with_kept_input)

    def __call__(self, x: Tensor, y: Tensor) -> Tensor:
        if self.with_cp and x.requires_grad:
            return checkpoint(self.block, x, y, use_reentrant=False)
        return self.block(x, y)

    def run_with_input(self, module: nn.Module, args: Tuple, y: Tensor) -> Tensor:
        return self(args[0], y)

    def keep_input(self, module: nn.Module, args: Tuple) -> None:
        self._x = args[0]

    def run_with_kept_input(self, module: nn.Module, args: Tuple, y: Tensor) -> Tensor:
        x, self._x = self._x, None
        return self(x, y)

    def run_before_exit(self, module: nn.Module, args: Tuple) -> Tuple:
        x, self._x = self._x, None
        return (self(x, args[0]), *args[1:])
