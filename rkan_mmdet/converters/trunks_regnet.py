"""The paper's RegNetX and RegNetY (torchvision's, under ``regnet.``) -> ``RKANRegNet(arch)``.

``stem.{0,1}`` -> ``conv1``/``bn1``, ``trunk_output.block{s}.block{s}-{j}.f.{a,b,c}.{0,1}``
-> ``layer{s}.{j}.conv{1,2,3}``/``bn{1,2,3}``, ``proj`` -> ``downsample``, and RegNetY's
``f.se.fc{1,2}`` -> ``se.conv{1,2}.conv`` (:class:`~rkan_mmdet.models.backbones.RegNetY`).
"""
from typing import Tuple

from rkan_mmdet.models.backbones.regnet import REGNETY_ARCHS, RegNetY

from .errors import LayoutError
from .trunk_base import BN, Trunk, _blocks_per_stage


#: The archs of the paper code's RegNet table: RegNetX 3.2GF and 8GF, RegNetY 400MF..32GF.
PAPER_REGNETX = ('regnetx_3.2gf', 'regnetx_8.0gf')
PAPER_REGNETS = PAPER_REGNETX + tuple(REGNETY_ARCHS)


class RegNetTrunk(Trunk):
    """torchvision RegNetX / RegNetY -> ``RKANRegNet(arch)``, the arch with the same stage
    widths, blocks per stage, group width and SE, among those the paper's code builds."""

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
        (r'trunk_output\.block(\d)\.block\1-(\d+)\.f\.se\.fc([12])\.(weight|bias)',
         r'backbone.layer\1.\2.se.conv\3.conv.\4'),
        (r'fc\.(weight|bias)', r'head.fc.\1'),
    ]

    @staticmethod
    def arch_shape(arch: dict) -> Tuple[list, list, list]:
        """(stage widths, blocks per stage, group widths) of a RegNet arch, by
        RegNetY's own arithmetic (its methods read only ``width_rule``)."""
        bare = RegNetY.__new__(RegNetY)
        bare.width_rule = arch.get('width_rule', 'pycls')
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
        se = any('.f.se.' in k for k in self.tensors)
        for name in PAPER_REGNETS:
            arch = RegNetY.arch_settings[name]
            if bool(arch.get('se_ratio')) == se and \
                    [list(v) for v in self.arch_shape(arch)] == [widths, blocks, group_w]:
                return dict(type='RKANRegNet', arch=name, out_indices=(3, ))
        raise LayoutError(f'regnet: stage widths {widths}, blocks {blocks} and group widths '
                          f'{group_w} ({"with" if se else "without"} SE) are no RegNet the '
                          f'paper\'s code builds ({", ".join(PAPER_REGNETS)})')
