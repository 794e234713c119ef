"""RKANMixin: the one mechanism that puts RKAN blocks beside a backbone's stages.

``class RKANResNet(RKANMixin, ResNet)`` is all a family needs; the generic
``dict(type='RKAN', backbone=...)`` builds the same class on the fly. After the
plain backbone is built:

1. :func:`.stages.find_stages` locates the stage modules (a known layout, or
   the backbone's contract: the modules producing the feature maps it returns,
   :mod:`.contract`), or refuses the backbone in one line, and
   :func:`.stages.probe_stages` measures ``C_in``, ``C_out`` and the stride of
   each from one small forward;
2. an :class:`~..layers.rkan_block.RKANBlock` is built for each enabled stage
   into ``self.rkan_layers[<stage key>]`` (``rkan_layers.layer4`` for the
   ResNet family), so the backbone's own state-dict keys are untouched and
   plain weights load with exactly the RKAN keys missing;
3. a :class:`.attach.StageTap` hooks it beside its stage: the backbone's own
   forward runs unchanged and the next stage sees ``mechanism(y, r)``. The
   taps are kept in ``self.rkan_taps`` (shown in ``repr``; ``tap.remove()``
   detaches one).

The second KAN conv goes on the backbone's last stage (on every stage of a
token backbone, as the paper's RKAN_Swin); the dilation is the stage's where
the backbone has ``dilations``.

Training behaviour, in every config style:

- **Norms that learn.** The blocks build their norms from ``rkan_norm_cfg``,
  by default the backbone's ``norm_cfg`` (BN where it has none), always with
  ``requires_grad=True``: under caffe-style ``norm_cfg=dict(type='BN',
  requires_grad=False)`` the blocks get a trainable BN, so the zero-initialised
  ``out_norm`` scale can leave 0.
- **norm_eval.** With ``rkan_norm_eval=False`` (default) the blocks' norms train
  (affine and running statistics) even when the backbone's ``norm_eval`` freezes
  its own: a fresh block's statistics start at 0/1 and must learn, and the
  rule does not depend on where the weights came from, so ``--resume`` continues
  exactly. This also holds for blocks loaded from an RKAN checkpoint: they keep
  adapting to the detection data (BN on stage 4 sees thousands of positions per
  batch). ``rkan_norm_eval=True`` makes them follow the backbone's ``norm_eval``,
  for fine-tuning from an RKAN checkpoint whose block statistics should stay.
- **frozen_stages** freezes (eval, no grad) the blocks of frozen stages too:
  those whose stage modules the backbone froze, in its own numbering.
- **Init.** With ``rkan_zero_init`` (default: the backbone's
  ``zero_init_residual``, or True where it has none) each block's last norm
  scale starts at 0, so a fresh RKAN backbone computes exactly its plain
  backbone; ``init_weights`` re-applies it after the backbone's own init
  unless ``init_cfg`` loads a checkpoint. ``False`` gives the paper code's init.
"""
import warnings
from typing import Iterator, List, Optional, Tuple

from mmcv.cnn import build_norm_layer
from torch import nn

from ..layers.rkan_block import RKANBlock
from .attach import StageTap
from .rkan_options import IntOrSeq, Mechanisms, RKANOptions
from .stages import StageShape, find_stages, probe_stages


def loads_checkpoint(init_cfg) -> bool:
    """Whether an mmengine ``init_cfg`` (dict or list) loads a checkpoint."""
    cfgs = init_cfg if isinstance(init_cfg, (list, tuple)) else [init_cfg]
    return any(isinstance(c, dict) and c.get('type') == 'Pretrained' for c in cfgs)


def plain_name(backbone: nn.Module) -> str:
    """The plain backbone's class name (``RKANResNet`` -> ``ResNet``)."""
    return next(c for c in type(backbone).__mro__ if not issubclass(c, RKANMixin)).__name__


def block_norm_cfg(norm_cfg: Optional[dict]) -> dict:
    """The blocks' norm: ``norm_cfg`` with ``requires_grad=True``; BN without
    one, or where it builds a token ``nn.LayerNorm`` that cannot normalise
    (B, C, H, W) maps over C."""
    cfg = dict(norm_cfg or dict(type='BN'))
    cfg['requires_grad'] = True
    probe = 8 * int(cfg.get('num_groups', 1))  # GN needs channels divisible by its groups
    if type(build_norm_layer(cfg, probe)[1]) is nn.LayerNorm:
        cfg = dict(type='BN', requires_grad=True)
    return cfg


class RKANMixin:
    """Adds RKAN (docs/spec.md §1) to a backbone class; see the module docstring.

    Args, besides the backbone's own:
        rkan_mechanisms: which stages carry a block, and how it joins:
            ``addition``, ``gating`` or ``se``. A dict by stage index
            (negative from the end: ``{-1: 'addition'}`` the last stage,
            ``{-2: 'addition', -1: 'addition'}`` the last two) or a list
            with one entry (None or a mechanism) per stage. Default None:
            the paper's, the last stage with addition.
        reduce_factor: int or one per stage; M = C_in // reduce_factor.
        inv_factor: int turns on RKAN-L, M = C_in * inv_factor.
        kan_type: KAN basis (see :class:`~..layers.KANConv2d`).
        kan_orders: degree (or B-spline order) of the first / second KAN conv.
        kan_grids: grid sizes of the first / second KAN conv.
        rkan_shortcut: add a 1x1 conv + norm shortcut inside the block.
        rkan_se_bias: give the ``se`` mechanism's 1x1 convs biases (the SE of
            the paper code's ResNeXt and Wide ResNet files; default False).
        rkan_norm_cfg: the blocks' norm (default: the backbone's ``norm_cfg``;
            BN without one, or where it is a token LayerNorm (Swin), as the
            paper's RKAN_Swin), always built with ``requires_grad=True``.
        rkan_norm_eval: let the backbone's ``norm_eval`` put the blocks' norms
            in eval mode too (default False: they always train).
        rkan_zero_init: start each block as a no-op (default: the backbone's
            ``zero_init_residual``, True without one).
    """


    def __init__(self, *args,
                 rkan_mechanisms: Mechanisms = None,
                 reduce_factor: IntOrSeq = 2,
                 inv_factor: Optional[int] = None,
                 kan_type: str = 'chebyshev',
                 kan_orders: Tuple[int, int] = (3, 2),
                 kan_grids: Tuple[int, int] = (3, 2),
                 rkan_shortcut: bool = False,
                 rkan_se_bias: bool = False,
                 rkan_norm_cfg: Optional[dict] = None,
                 rkan_norm_eval: bool = False,
                 rkan_zero_init: Optional[bool] = None,
                 **kwargs) -> None:
        options = RKANOptions.check(rkan_mechanisms, reduce_factor, inv_factor, kan_type,
                                    kan_orders, kan_grids, rkan_shortcut, rkan_norm_cfg,
                                    rkan_norm_eval, rkan_zero_init, rkan_se_bias)
        super().__init__(*args, **kwargs)
        name = plain_name(self)
        stages = find_stages(self, name)
        mechanisms, factors = options.per_stage([s.key for s in stages], name)
        enabled = [i for i, mech in enumerate(mechanisms) if mech is not None]
        if inv_factor is not None and len(enabled) > 1:
            warnings.warn(f'RKAN-L (inv_factor={inv_factor}) on {len(enabled)} stages: '
                          'the paper found RKAN-L works worse beyond one stage')
        shapes = probe_stages(self, stages, name) if enabled else []
        self.rkan_norm_eval = options.norm_eval
        self.rkan_zero_init = (getattr(self, 'zero_init_residual', True)
                               if options.zero_init is None else options.zero_init)
        self.rkan_stage_index = {stage.key: i for i, stage in enumerate(stages)}
        norm_cfg = block_norm_cfg(options.norm_cfg or getattr(self, 'norm_cfg', None))
        dilations = getattr(self, 'dilations', None)
        self.rkan_layers = nn.ModuleDict()
        self.rkan_taps: List[StageTap] = []
        for i in enabled:
            block = RKANBlock(
                shapes[i].in_channels, shapes[i].out_channels,
                self._mid_channels(i, shapes[i], factors[i], options.inv_factor),
                stride=shapes[i].stride,
                dilation=dilations[i] if isinstance(dilations, (list, tuple)) else 1,
                # token stages: both KAN convs in every stage, as the paper's RKAN_Swin
                last_stage=i == len(stages) - 1 or stages[i].tokens, kan_type=options.kan_type,
                kan_orders=options.kan_orders, kan_grids=options.kan_grids,
                mechanism=mechanisms[i], se_bias=options.se_bias,
                shortcut=options.shortcut, norm_cfg=norm_cfg,
                zero_init=bool(self.rkan_zero_init))
            self.rkan_layers[stages[i].key] = block
            self.rkan_taps.append(
                StageTap(stages[i], block, with_cp=bool(getattr(self, 'with_cp', False))))
        self._freeze_stages()

    @staticmethod
    def _mid_channels(i: int, shape: StageShape, reduce_factor: int,
                      inv_factor: Optional[int]) -> int:
        """M: ``C_in * inv_factor`` (RKAN-L) or ``C_in // reduce_factor``."""
        if inv_factor is not None:
            return shape.in_channels * inv_factor
        if shape.in_channels % reduce_factor:
            raise ValueError(f'reduce_factor {reduce_factor} does not divide the '
                             f'{shape.in_channels} input channels of stage {i + 1}')
        return shape.in_channels // reduce_factor

    def _rkan_blocks(self, frozen: bool) -> Iterator[nn.Module]:
        """The blocks of frozen or of trainable stages. A stage is frozen when
        the backbone froze it (``frozen_stages``, in its own numbering): none
        of its modules' parameters requires grad."""
        for tap in getattr(self, 'rkan_taps', []):
            params = [p for m in {tap.stage.entry, tap.stage.exit} for p in m.parameters()]
            if (bool(params) and not any(p.requires_grad for p in params)) is frozen:
                yield tap.block

    def _freeze_stages(self) -> None:
        freeze = getattr(super(), '_freeze_stages', None)  # RepMLPNet has none
        if freeze is not None:
            freeze()
        for block in self._rkan_blocks(frozen=True):
            block.eval()
            for param in block.parameters():
                param.requires_grad = False

    def train(self, mode: bool = True):
        """The backbone's ``train`` (norm_eval, frozen stages), then the blocks'
        norms back to training unless ``rkan_norm_eval``. Returns self, as
        nn.Module's contract (and torch.onnx / torch.export) need; mmdet's and
        mmpretrain's ``train`` return None."""
        super().train(mode)
        if mode and not self.rkan_norm_eval:
            for block in self._rkan_blocks(frozen=False):
                block.train(True)
        return self

    def init_weights(self) -> None:
        """The backbone's init (which may reset every norm scale to 1), then
        the blocks' zero init again unless weights come from a checkpoint."""
        super().init_weights()
        if self.rkan_zero_init and not loads_checkpoint(self.init_cfg):
            for block in self.rkan_layers.values():
                block.zero_init_residual()

    def extra_repr(self) -> str:
        """The backbone's own extra repr, then one line per RKAN tap."""
        lines = [super().extra_repr()] + [f'(rkan tap) {tap!r}' for tap in self.rkan_taps]
        return '\n'.join(line for line in lines if line)
