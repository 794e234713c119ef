"""The models the benchmark compares, and one timed step of each.

Models are preset names (:data:`PRESETS`: ``resnet50``, ``rkanet50``, ...) or
config files (the backbone is ``cfg.model.backbone``; the detector is
``cfg.model``), built with random weights (no checkpoint is read). ``plugin``
puts an attention module (:data:`PLUGINS`) into every bottleneck of the
backbone (GC: the paper's stages 2-4, ``configs/_base_/gcnet_plugin.py``).

Detectors keep exactly 100 detections (score_thr 0), and
:func:`share_weights` gives every detector the weights it shares with the
first one, with RKAN blocks as no-ops: all detectors then see the same
proposals, NMS inputs and detections, so a time ratio is the backbone's cost.
Parameter counts: :mod:`.param_count` (docs/families.md §5).
"""
import argparse
import contextlib
import copy
import inspect
from pathlib import Path
from typing import Callable, Dict, Optional

import torch
from mmengine.config import Config

from .param_count import all_params, profiler_params

#: The repository checkout (its configs/ and work_dirs/).
ROOT = Path(__file__).resolve().parents[2]


class BenchmarkInputError(ValueError):
    """A model name or option the benchmark cannot run; its text is one line."""


PRESETS = {
    'resnet50': 'configs/mask_rcnn_r50_1x_coco.py',
    'rkanet50': 'configs/mask_rcnn_rkanet50_1x_coco.py',
    'rkanet50_2xl': 'configs/mask_rcnn_rkanet50_2xl_1x_coco.py',
    'senet50': 'configs/mask_rcnn_senet50_1x_coco.py',
    'rkan_senet50': 'configs/mask_rcnn_rkan_senet50_1x_coco.py',
}
PLUGINS = ('ECA', 'CBAM', 'ShuffleAttention', 'SimAM', 'ELA', 'GC')


def takes_plugins(backbone_type: str) -> bool:
    """Whether the registered backbone (or a parent class) has a ``plugins`` argument."""
    from mmdet.registry import MODELS
    cls = MODELS.get(backbone_type)
    return cls is not None and any(
        'plugins' in inspect.signature(c.__init__).parameters
        for c in cls.__mro__ if '__init__' in vars(c))


def plugin_list(name: str) -> list:
    """mmdet ``plugins`` for ``--plugin name``: after conv3 of every bottleneck
    (GC: the paper's fragment, stages 2-4)."""
    if name == 'GC':
        return Config.fromfile(str(ROOT / 'configs/_base_/gcnet_plugin.py')).gcnet_plugins
    return [dict(cfg=dict(type=name), position='after_conv3')]


def load_model_cfg(name: str, plugin: Optional[str] = None) -> dict:
    path = ROOT / PRESETS.get(name, name)
    if not path.is_file():
        raise BenchmarkInputError(f'unknown model {name!r}: not a preset '
                                  f'({", ".join(PRESETS)}) nor a config file')
    model = copy.deepcopy(Config.fromfile(str(path)).model)
    if plugin is not None:
        if not takes_plugins(model.backbone.type):
            raise BenchmarkInputError(
                f'--plugin {plugin}: the backbone of {name} ({model.backbone.type}) '
                "takes no mmdet 'plugins' argument")
        model.backbone.plugins = plugin_list(plugin)
    model.backbone.init_cfg = None  # random weights: no checkpoint needed
    model.backbone.pop('pretrained', None)
    if model.get('test_cfg', {}).get('rcnn'):
        model.test_cfg.rcnn.update(score_thr=0.0, max_per_img=100)
    return model


def build(name: str, part: str, device: str, plugin: Optional[str] = None) -> torch.nn.Module:
    from mmdet.registry import MODELS
    from mmengine.registry import DefaultScope
    cfg = load_model_cfg(name, plugin)
    with DefaultScope.overwrite_default_scope('mmdet'):  # whatever scope the caller left current
        model = MODELS.build(cfg.backbone if part == 'backbone' else cfg)
    return model.to(device)


def autocast(device: str, amp: bool) -> contextlib.AbstractContextManager:
    if not amp:
        return contextlib.nullcontext()
    return torch.autocast(device, dtype=torch.bfloat16 if device == 'cpu' else torch.float16)


def share_weights(model: torch.nn.Module, reference: Dict[str, torch.Tensor]) -> None:
    """Copy every tensor ``model`` shares with ``reference`` (same name and
    shape); make RKAN blocks no-ops, so ``model`` computes what the reference does."""
    from rkan_mmdet.models.layers.rkan_block import RKANBlock
    own = model.state_dict()
    model.load_state_dict({k: v for k, v in reference.items()
                           if k in own and own[k].shape == v.shape}, strict=False)
    for module in model.modules():
        if isinstance(module, RKANBlock):
            module.zero_init_residual()


def make_step(name: str, part: str, mode: str, args: argparse.Namespace,
              reference: Optional[Dict[str, torch.Tensor]] = None) -> Callable[[], None]:
    """A closure running one ``mode`` ('forward', 'train' or 'predict') call;
    ``reference``: weights to share (see :func:`share_weights`)."""
    torch.manual_seed(0)
    model = build(name, part, args.device, args.plugin)
    if reference is not None:
        share_weights(model, reference)
    shape = (args.batch_size, 3, *args.input_size)
    x = torch.randn(shape, device=args.device)
    if args.channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    if mode == 'train':
        model.train()

        def step() -> None:
            with autocast(args.device, args.amp):
                outs = model(x)
            sum(o.float().mean() for o in outs).backward()
        return step
    model.eval()
    samples = detection_samples(args) if part == 'detector' else None

    def run() -> None:
        with torch.no_grad(), autocast(args.device, args.amp):
            model(x) if samples is None else model.predict(x, samples)
    return run


def detection_samples(args: argparse.Namespace) -> list:
    from mmdet.structures import DetDataSample
    h, w = args.input_size
    meta = dict(img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w),
                batch_input_shape=(h, w), scale_factor=(1.0, 1.0))
    return [DetDataSample(metainfo=meta) for _ in range(args.batch_size)]


def params_and_flops(name: str, part: str, args: argparse.Namespace) -> Dict[str, float]:
    """Both parameter counts (see ``param_count.py``) and the backbone's FLOPs."""
    from mmengine.analysis import get_model_complexity_info
    model = build(name, part, 'cpu', args.plugin)
    model.eval()  # not chained: mmdet's ResNet.train() returns None
    x = torch.randn(1, 3, *args.input_size)
    if part == 'backbone':
        profiled = profiler_params(model, lambda m: m(x))
    else:  # 'tensor' mode runs every head on one image
        samples = detection_samples(argparse.Namespace(input_size=args.input_size, batch_size=1))
        profiled = profiler_params(model, lambda m: m(x, samples, mode='tensor'))
    params = all_params(model)
    flops = None
    if part == 'backbone':
        info = get_model_complexity_info(model, inputs=(x,), show_table=False, show_arch=False)
        flops = info['flops'] * args.batch_size
    return dict(params_m=params / 1e6, params=params, profiler_params=profiled,
                gflops=None if flops is None else flops / 1e9)
