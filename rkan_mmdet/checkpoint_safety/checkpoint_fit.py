"""Refuse a checkpoint that holds no weights of the model it is loaded into.

mmengine loads state dicts with ``strict=False`` and only logs missing and
unexpected keys, so ``load_from`` / ``--checkpoint`` / ``init_cfg=dict(type=
'Pretrained')`` with the checkpoint of another model "succeeds" and leaves the
model at its random initialisation. Partial matches are legitimate (a
backbone's ImageNet weights in a detector, plain ResNet weights in an RKAN
backbone), so only a checkpoint that matches *none* of the model's keys, or
is not a dict, is refused here, in one line.
"""
from __future__ import annotations

import re
from typing import Any, Sequence

from torch import nn

from .checkpoint_errors import CheckpointError


def state_dict_of(checkpoint: Any, source: str) -> dict:
    """``checkpoint['state_dict']``, or ``checkpoint`` itself when it has no
    such key (mmengine's rule); refuses anything but a dict."""
    if not isinstance(checkpoint, dict):
        raise CheckpointError(
            f"checkpoint '{source}' is not a checkpoint: it holds a "
            f'{type(checkpoint).__name__}, not a dict of weights', source)
    state = checkpoint.get('state_dict', checkpoint)
    if not isinstance(state, dict):
        raise CheckpointError(
            f"checkpoint '{source}' is not a checkpoint: its state_dict is a "
            f'{type(state).__name__}, not a dict of weights', source)
    return state


def check_fits(model: nn.Module,
               checkpoint: Any,
               source: str,
               revise_keys: Sequence[tuple[str, str]] = ((r'^module\.', ''), ),
               prefix: str = '') -> None:
    """Refuse ``checkpoint`` if none of its keys is a key of ``model``.

    Args:
        model: the module the weights are for.
        checkpoint: what was loaded from ``source``.
        source: the path or URL, for the message.
        revise_keys: the ``(pattern, replacement)`` key rewrites mmengine
            applies before loading.
        prefix: only keys starting with it count, with it removed first
            (as ``Pretrained(prefix=...)`` loads them).

    Raises:
        CheckpointError: not a dict, no weights, or no key in common.
    """
    state = state_dict_of(checkpoint, source)
    keys = [
        k[len(prefix):] for k in state
        if isinstance(k, str) and k.startswith(prefix)
    ]
    for pattern, replacement in revise_keys:
        keys = [re.sub(pattern, replacement, k) for k in keys]
    wanted = list(model.state_dict())
    if not wanted:
        return
    if not keys:
        what = (f"no key starting with '{prefix}'" if prefix else
                'no weights')
        raise CheckpointError(
            f"checkpoint '{source}' does not fit the model: it holds {what}",
            source)
    if not set(keys) & set(wanted):
        raise CheckpointError(
            f"checkpoint '{source}' does not fit the model: none of its "
            f"{len(keys)} keys (e.g. '{keys[0]}') is one of the model's "
            f"{len(wanted)} (e.g. '{wanted[0]}'); is it another model's "
            'checkpoint?', source)
