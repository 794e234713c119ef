"""The paper's RegNetX and RegNetY (torchvision's, under ``regnet.``) -> ``RKANRegNet(arch)``.

``stem.{0,1}`` -> ``conv1``/``bn1``, ``trunk_output.block{s}.block{s}-{j}.f.{a,b,c}.{0,1}``
-> ``layer{s}.{j}.conv{1,2,3}``/``bn{1,2,3}``, ``proj`` -> ``downsample``, and RegNetY's
``f.se.fc{1,2}`` -> ``se.conv{1,2}.conv`` (:class:`~rkan_mmdet.models.backbones.RegNetY`).
"""
from typing import Optional, Tuple

from rkan_mmdet.models.backbones.regnet import REGNETY_ARCHS, RegNetY, torchvision_regnet_keys

from .errors import LayoutError
from .trunk_base import Trunk, _blocks_per_stage


#: The archs of the paper code's RegNet table: RegNetX 3.2GF and 8GF, RegNetY 400MF..32GF.
PAPER_REGNETX = ('regnetx_3.2gf', 'regnetx_8.0gf')
PAPER_REGNETS = PAPER_REGNETX + tuple(REGNETY_ARCHS)


class RegNetTrunk(Trunk):
    """torchvision RegNetX / RegNetY -> ``RKANRegNet(arch)``, the arch with the same stage
    widths, blocks per stage, group width and SE, among those the paper's code builds."""

    prefix = 'regnet'
    rules = [(r'fc\.(weight|bias)', r'head.fc.\1')]

    def target(self, key: str) -> Optional[str]:
        """The classifier's ``fc``, or the backbone key :func:`torchvision_regnet_keys`
        (the renaming RegNetY's own docs give) makes of ``key``."""
        head = super().target(key)
        if head is not None:
            return head
        try:
            renamed = torchvision_regnet_keys({key: None})
        except KeyError:  # a block part RegNet does not have
            return None
        return next((f'backbone.{name}' for name in renamed), None)

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
