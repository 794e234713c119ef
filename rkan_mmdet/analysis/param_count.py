"""Two parameter counts: every parameter, and the RKAN paper's profiler count.

docs/families.md §5. ``sum(p.numel())`` counts every parameter of a model. The
paper's tables come from a profiler (thop style) that only counts the
parameters of torch's standard parametrised layers *that run in a forward
pass*, so it skips:

* GroupNorm (ELA's and SA's norms; GroupNorm backbones' norms),
* parameters (``nn.Parameter``) held by custom modules (SA's ``cw, cb, sw, sb``, the
  KAN convs' 99 weights of an RKAN block: their base weights sit in an
  ``nn.Linear`` in the paper's code, which the profiler does count; the 18
  weights that makes are below the tables' 0.01M rounding),
* modules that do not run (e.g. a classifier's unused layers).

:func:`profiler_params` reproduces that rule with forward hooks; each module
is counted once however often it runs (ELA's shared Conv1d runs twice).
"""
from typing import Any, Callable, Set

import torch
from torch import nn

# torch's parametrised layers that thop counts (and their subclasses, such as
# SyncBatchNorm and mmcv's conv wrappers); GroupNorm is not among them.
PROFILED_TYPES = (nn.modules.conv._ConvNd, nn.Linear, nn.modules.batchnorm._BatchNorm,
                  nn.modules.instancenorm._InstanceNorm, nn.LayerNorm, nn.PReLU,
                  nn.RNNBase, nn.RNNCellBase)

PROFILER_NOTE = ('profiler count: parameters of conv/linear/batch-, layer- and instance-norm '
                 'layers that run; skips GroupNorm, custom nn.Parameters and unused modules '
                 '(the RKAN paper\'s tables)')
ALL_NOTE = 'all parameters: sum(p.numel() for p in model.parameters())'


def all_params(model: nn.Module) -> int:
    """``sum(p.numel())`` over every parameter (trainable or frozen)."""
    return sum(p.numel() for p in model.parameters())


def profiler_params(model: nn.Module, run: Callable[[nn.Module], Any]) -> int:
    """Parameters of :data:`PROFILED_TYPES` modules that run during ``run(model)``.

    ``run`` calls the model once (e.g. ``lambda m: m(torch.zeros(1, 3, 64, 64))``);
    it runs in eval mode without gradients, and the model's mode is restored.
    """
    ran: Set[nn.Module] = set()
    handles = [m.register_forward_hook(lambda mod, args, out: ran.add(mod))
               for m in model.modules() if isinstance(m, PROFILED_TYPES)]
    was_training = model.training
    try:
        model.eval()  # not chained: mmdet's ResNet.train() returns None
        with torch.no_grad():
            run(model)
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    return sum(p.numel() for m in ran for p in m.parameters(recurse=False))
