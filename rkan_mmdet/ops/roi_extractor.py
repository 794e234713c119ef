"""mmdet's ``SingleRoIExtractor`` with :class:`ThreadedRoIAlign` layers.

    bbox_roi_extractor=dict(type='ThreadedSingleRoIExtractor',
                            roi_layer=dict(type='RoIAlign', output_size=7, sampling_ratio=0),
                            out_channels=256, featmap_strides=[4, 8, 16, 32])

takes the recipe's extractor config unchanged except for ``type``: a
``roi_layer`` of type ``'RoIAlign'`` becomes :class:`ThreadedRoIAlign` (bitwise
the same results, faster on CPU); any other layer type is built as mmdet does.
The module tree and state dict are those of ``SingleRoIExtractor``.
"""
from typing import List

from mmdet.models.roi_heads.roi_extractors import SingleRoIExtractor
from mmdet.utils import ConfigType
from mmengine.registry import MODELS
from torch import nn

from .roi_align import ThreadedRoIAlign


@MODELS.register_module()
class ThreadedSingleRoIExtractor(SingleRoIExtractor):
    """``SingleRoIExtractor`` whose ``RoIAlign`` layers are :class:`ThreadedRoIAlign`."""

    def build_roi_layers(self, layer_cfg: ConfigType,
                         featmap_strides: List[int]) -> nn.ModuleList:
        cfg = layer_cfg.copy()
        if cfg.get('type') == 'RoIAlign':
            cfg['type'] = ThreadedRoIAlign
        return super().build_roi_layers(cfg, featmap_strides)
