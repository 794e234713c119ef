"""Run an RKAN block beside a stage through forward hooks, without copying any forward.

:class:`StageTap` connects one :class:`~..layers.rkan_block.RKANBlock` to one
:class:`~.stages.Stage`:

.. code-block:: text

    entry module (pre-hook: keep x)  ...  exit module (hook: y -> block(x, y))

When entry and exit are the same module (the ResNet family) one forward hook
does it all, reading ``x`` from the hook's ``args``. When ``y`` is the input
of the exit module (DenseNet's last stage, before its final ReLU), a
pre-hook on it replaces that input. Token stages (Swin) hand the block ``x``
and ``y`` as (B, C, H, W) maps, with (H, W) from each module's second
argument, and turn ``mechanism(y, r)`` back into contiguous tokens. The backbone's own
forward, ``out_indices``, plugins, ``with_cp`` inside blocks and every
subclass override stay untouched; only the stage output that the rest of the
forward sees becomes ``mechanism(y, r)``.

The hooks are bound methods of the tap, and the tap holds the block itself,
so ``copy.deepcopy`` (MMEngine's EMA) gives the copy hooks that run the
*copied* blocks. ``torch.onnx.export`` (TorchScript and dynamo) and
``torch.export`` trace hooks like any other Python in the forward.

The tap keeps its hook handles: ``tap.remove()`` detaches the block (the
backbone then computes its plain self), and ``repr(tap)`` names the stage's
modules and the hooks on them. :class:`~.rkan_mixin.RKANMixin` keeps its taps
in ``rkan_taps`` and shows them in the backbone's ``repr``.
"""
from typing import List, Optional, Tuple

from torch import Tensor, nn
from torch.utils.checkpoint import checkpoint

from .stage_spec import Stage


def tokens_to_map(tokens: Tensor, hw: Tuple[int, int]) -> Tensor:
    """(B, H*W, C) row-major tokens -> (B, C, H, W)."""
    batch, _, channels = tokens.shape
    return tokens.transpose(1, 2).reshape(batch, channels, int(hw[0]), int(hw[1]))


def map_to_tokens(feature_map: Tensor) -> Tensor:
    """(B, C, H, W) -> contiguous (B, H*W, C) tokens."""
    return feature_map.flatten(2).transpose(1, 2).contiguous()


class StageTap:
    """The hooks that run ``block`` beside ``stage``.

    Args:
        stage: where ``x`` enters and ``y`` leaves.
        block: ``forward(x, y) -> y'``.
        with_cp: recompute the block in backward (activation checkpointing)
            when ``x`` requires grad, as mmdet's ``with_cp`` does for blocks.
    """

    def __init__(self, stage: Stage, block: nn.Module, with_cp: bool = False) -> None:
        self.stage = stage
        self.block = block
        self.with_cp = with_cp
        self._x: Optional[Tensor] = None
        self._x_hw: Optional[tuple] = None
        #: (where, module, hook id) of every hook this tap put on the stage
        self.hooks: List[Tuple[str, nn.Module, int]] = []
        if stage.entry is stage.exit and not stage.exit_input and not stage.tokens:
            self._hook('exit: forward hook', stage.exit.register_forward_hook(
                self.run_with_input))
            return
        self._hook('entry: pre-hook', stage.entry.register_forward_pre_hook(self.keep_input))
        if stage.exit_input:
            self._hook('exit: pre-hook', stage.exit.register_forward_pre_hook(
                self.run_before_exit))
        else:
            self._hook('exit: forward hook', stage.exit.register_forward_hook(
                self.run_with_kept_input))

    def _hook(self, where: str, handle) -> None:
        module = self.stage.exit if where.startswith('exit') else self.stage.entry
        self.hooks.append((where, module, handle.id))

    def remove(self) -> None:
        """Take the hooks off: the stage runs without its block from now on.

        By module and hook id rather than through the ``RemovableHandle``s,
        whose weak references a ``copy.deepcopy`` (EMA) would leave pointing
        at the original modules.
        """
        for _, module, hook_id in self.hooks:
            for table in (module._forward_hooks, module._forward_pre_hooks,
                          module._forward_hooks_with_kwargs,
                          module._forward_hooks_always_called):
                table.pop(hook_id, None)
        self.hooks = []

    def __repr__(self) -> str:
        stage = self.stage
        modules = (type(stage.entry).__name__ if stage.entry is stage.exit
                   else f'{type(stage.entry).__name__} -> {type(stage.exit).__name__}')
        hooks = ', '.join(where for where, _, _ in self.hooks) or 'removed'
        extra = ', tokens' if stage.tokens else ''
        return f'StageTap({stage.key}: {modules}; {hooks}{extra})'

    def __call__(self, x: Tensor, y: Tensor) -> Tensor:
        if self.with_cp and x.requires_grad:
            return checkpoint(self.block, x, y, use_reentrant=False)
        return self.block(x, y)

    def run_with_input(self, module: nn.Module, args: Tuple, y: Tensor) -> Tensor:
        return self(args[0], y)

    def keep_input(self, module: nn.Module, args: Tuple) -> None:
        self._x = args[0]
        self._x_hw = args[1] if self.stage.tokens else None

    def run_with_kept_input(self, module: nn.Module, args: Tuple, y: Tensor) -> Tensor:
        x, self._x = self._x, None
        if not self.stage.tokens:
            return self(x, y)
        out = self(tokens_to_map(x, self._x_hw), tokens_to_map(y, args[1]))
        return map_to_tokens(out)

    def run_before_exit(self, module: nn.Module, args: Tuple) -> Tuple:
        x, self._x = self._x, None
        return (self(x, args[0]), *args[1:])
