"""The paper's RegNetX (torchvision's, under ``regnet.``) -> ``RKANRegNet(arch)``.

``stem.{0,1}`` -> ``conv1``/``bn1``, ``trunk_output.block{s}.block{s}-{j}.f.{a,b,c}.{0,1}``
-> ``layer{s}.{j}.conv{1,2,3}``/``bn{1,2,3}``, ``proj`` -> ``downsample``.
"""
from typing import Dict, Tuple

from mmdet.models.backbones import RegNet
from torch import Tensor

from .errors import LayoutError
from .trunk_base import BN, Trunk, _blocks_per_stage


#: The RegNetX archs of the paper's code (its RegNet table: regnet_x_3_2gf, regnet_x_8gf).
PAPER_REGNETX = ('regnetx_3.2gf', 'regnetx_8.0gf')


class RegNetTrunk(Trunk):
    """torchvision RegNetX -> ``RKANRegNet(arch)``, the mmdet arch with the same stage
    widths, blocks per stage and group width, among those the paper's code builds
    (RegNetY's SE keys fit no rule)."""

    prefix = 'regnet'
    rules = [
        (r'stem\.0\.weight', r'backbone.conv1.weight'),
        (rf'stem\.1\.({BN})', r'backbone.bn1.\1'),
        (r'trunk_output\.block(\d)\.block\1-(\d+)\.f\.a\.0\.weight', r'backbone.layer\1.\2.conv1.weight'),
        (r'trunk_output\.block(\d)\.block\1-(\d+)\.f\.b\.0\.weight', r'backbone.layer\1.\2.conv2.weight'),
        (r'trunk_output\.block(\d)\.block\1-(\d+)\.f\.c\.0\.weight', r'backbone.layer\1.\2.conv3.weight'),
        (rf'trunk_output\.block(\d)\.block\1-(\d+)\.f\.a\.1\.({BN})', r'backbone.layer\1.\2.bn1.\3'),
        (rf'trunk_output\.block(\d)\.block\1-(\d+)\.f\.b\.1\.({BN})', r'backbone.layer\1.\2.bn2.\3'),
        (rf'trunk_output\.block(\d)\.block\1-(\d+)\.f\.c\.1\.({BN})', r'backbone.layer\1.\2.bn3.\3'),
        (r'trunk_output\.block(\d)\.block\1-(\d+)\.proj\.0\.weight',
         r'backbone.layer\1.\2.downsample.0.weight'),
        (rf'trunk_output\.block(\d)\.block\1-(\d+)\.proj\.1\.({BN})',
         r'backbone.layer\1.\2.downsample.1.\3'),
        (r'fc\.(weight|bias)', r'head.fc.\1'),
    ]

    def __init__(self, tensors: Dict[str, Tensor]) -> None:
        se = next((k for k in tensors if '.f.se.' in k), None)
        if se is not None:
            raise LayoutError(f'regnet: a RegNetY file (regnet.{se}: SE in every block); '
                              'rkan_mmdet has no RegNetY backbone to convert it into yet')
        super().__init__(tensors)

    @staticmethod
    def arch_shape(arch: dict) -> Tuple[list, list, list]:
        """(stage widths, blocks per stage, group widths) of an mmdet RegNet arch,
        by mmdet's own arithmetic (its methods read no instance state)."""
        bare = RegNet.__new__(RegNet)
        widths, num_stages = bare.generate_regnet(arch['w0'], arch['wa'], arch['wm'], arch['depth'])
        stage_widths, stage_blocks = bare.get_stages_from_blocks(widths)
        stage_widths, groups = bare.adjust_width_group(
            stage_widths, [arch['bot_mul']] * num_stages, [arch['group_w']] * num_stages)
        return stage_widths, stage_blocks, groups

    def backbone(self) -> dict:
        blocks = list(_blocks_per_stage(list(self.tensors), r'trunk_output\.block(\d)\.block\d-(\d+)\.'))
        widths = [self.need(f'trunk_output.block{s}.block{s}-0.f.c.0.weight').shape[0]
                  for s in range(1, len(blocks) + 1)]
        group_w = [self.need(f'trunk_output.block{s}.block{s}-0.f.b.0.weight').shape[1]
                   for s in range(1, len(blocks) + 1)]
        for name in PAPER_REGNETX:
            if [list(v) for v in self.arch_shape(RegNet.arch_settings[name])] == \
                    [widths, blocks, group_w]:
                return dict(type='RKANRegNet', arch=name, out_indices=(3, ))
        raise LayoutError(f'regnet: stage widths {widths}, blocks {blocks} and group widths '
                          f'{group_w} are no RegNetX the paper\'s code builds '
                          f'({", ".join(PAPER_REGNETX)})')
