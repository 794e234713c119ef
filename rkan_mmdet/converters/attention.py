"""Attention inside the blocks of the paper's ResNet variants -> our plugins / SE-ResNet.

The paper's SENet, ELA, ECA, CBAM, SA, SimAM and GCNet files keep the ResNet
trunk under ``resnet.`` and add one attention module to each bottleneck, after
its last norm, before the identity add (docs/families.md §4): mmdet's plugin
position ``after_conv3`` (mmpretrain's SE-ResNet for SE). Its key names tell
which one it is (``resnet.layer1.0.<name>.*``):

=========  =====================================  =========================================
paper      reference name -> ours                 our backbone
=========  =====================================  =========================================
se         ``se.fc1`` / ``se.fc2`` (no bias)      ``RKANSENet(se_bias=False)``:
           -> ``se_layer.conv1.conv`` / ``conv2``  mmpretrain SE-ResNet keys
ela        ``ela.conv``, ``ela.gn`` ->            ``plugins=[ELA after_conv3]``
           ``ela.conv``, ``ela.norm``
eca        ``eca.conv`` -> ``eca.conv``            ``plugins=[ECA after_conv3]``
cbam       ``cbam.channel_attention.fc.{0,2}``,   ``plugins=[CBAM after_conv3]``
           ``cbam.spatial_attention.conv`` ->
           ``cbam.channel_mlp.{0,2}``, ``cbam.spatial_conv``
sa         ``sa.{c,s}{weight,bias}``, ``sa.gn``   ``plugins=[ShuffleAttention after_conv3]``
           -> ``shuffle_attention.{channel,spatial}_{weight,bias}``, ``.norm``
gc         ``gc_block.context_modeling``,         ``plugins=[ContextBlock(ratio 1/4)`` on
           ``gc_block.transform.{0,1,3}`` ->      stages 2-4 ``]`` (mmcv)
           ``context_block.conv_mask``,
           ``context_block.channel_add_conv.{0,1,3}``
simam      (no tensors)                            ``plugins=[SimAM after_conv3]``
=========  =====================================  =========================================

GC: the paper's convs have no biases, mmcv's do; they become zeros, which
computes the same (a constant added to the mask logits cancels in the softmax
over positions; the others add 0).
"""
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import torch
from torch import Tensor

BLOCK = r'(layer[1-4]\.\d+)\.'


@dataclass(frozen=True)
class Attention:
    """One attention kind: its reference name, key map and our backbone arguments."""

    name: str
    #: the attribute of the reference block (``se``, ``ela``, ...)
    module: str
    #: (reference tensor name regex, our template), both relative to the block
    rules: Tuple[Tuple[str, str], ...]
    backbone: dict
    #: our (name, shape source) tensors the reference lacks, set to zeros
    zeros: Tuple[Tuple[str, str, int], ...] = field(default=())

    def target_rules(self) -> List[Tuple[str, str]]:
        """Rules on trunk keys (without the family prefix)."""
        return [(BLOCK + re.escape(self.module) + r'\.' + theirs, r'backbone.\1.' + ours)
                for theirs, ours in self.rules]


def plugins(cfg: dict, stages: Optional[Tuple[bool, ...]] = None) -> dict:
    plugin = dict(cfg=cfg, position='after_conv3')
    if stages is not None:
        plugin['stages'] = stages
    return dict(plugins=[plugin])


ATTENTIONS: Dict[str, Attention] = {a.name: a for a in (
    Attention('se', 'se', ((r'fc1\.weight', 'se_layer.conv1.conv.weight'),
                           (r'fc2\.weight', 'se_layer.conv2.conv.weight')),
              dict(type='RKANSENet', se_bias=False)),
    Attention('ela', 'ela', ((r'conv\.weight', 'ela.conv.weight'),
                             (r'gn\.(weight|bias)', r'ela.norm.\2')),
              plugins(dict(type='ELA'))),
    Attention('eca', 'eca', ((r'conv\.weight', 'eca.conv.weight'), ), plugins(dict(type='ECA'))),
    Attention('cbam', 'cbam', ((r'channel_attention\.fc\.([02])\.weight',
                                r'cbam.channel_mlp.\2.weight'),
                               (r'spatial_attention\.conv\.weight', 'cbam.spatial_conv.weight')),
              plugins(dict(type='CBAM'))),
    Attention('sa', 'sa', ((r'cweight', 'shuffle_attention.channel_weight'),
                           (r'cbias', 'shuffle_attention.channel_bias'),
                           (r'sweight', 'shuffle_attention.spatial_weight'),
                           (r'sbias', 'shuffle_attention.spatial_bias'),
                           (r'gn\.(weight|bias)', r'shuffle_attention.norm.\2')),
              plugins(dict(type='ShuffleAttention'))),
    Attention('gc', 'gc_block', ((r'context_modeling\.weight', 'context_block.conv_mask.weight'),
                                 (r'transform\.([03])\.weight',
                                  r'context_block.channel_add_conv.\2.weight'),
                                 (r'transform\.1\.(weight|bias)',
                                  r'context_block.channel_add_conv.1.\2')),
              plugins(dict(type='ContextBlock', ratio=1. / 4), stages=(False, True, True, True)),
              zeros=(('context_block.conv_mask.bias', 'context_block.conv_mask.weight', 0),
                     ('context_block.channel_add_conv.0.bias',
                      'context_block.channel_add_conv.0.weight', 0),
                     ('context_block.channel_add_conv.3.bias',
                      'context_block.channel_add_conv.3.weight', 0))),
    Attention('simam', 'simam', (), plugins(dict(type='SimAM'))),
)}
#: Attention kinds that leave no tensor: the file cannot show them.
PARAMETER_FREE = tuple(name for name, a in ATTENTIONS.items() if not a.rules)


def find_attention(keys: List[str]) -> Optional[Attention]:
    """The attention whose module name appears inside the trunk's blocks, if any."""
    for attention in ATTENTIONS.values():
        marker = re.compile(BLOCK + re.escape(attention.module) + r'\.')
        if attention.rules and any(marker.match(k) for k in keys):
            return attention
    return None


def add_zeros(attention: Attention, mapped: Dict[str, Tensor], sources: Dict[str, str]) -> None:
    """Our tensors the reference lacks (GC's conv biases), as zeros beside their weights."""
    for name, like, dim in attention.zeros:
        for key in [k for k in mapped if k.endswith('.' + like)]:
            target = key[:-len(like)] + name
            mapped[target] = torch.zeros(mapped[key].shape[dim], dtype=mapped[key].dtype)
            sources[target] = f'zeros (the paper\'s {attention.module} conv has no bias)'
