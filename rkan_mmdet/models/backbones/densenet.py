"""DenseNet with a choice of final head: mmpretrain's (BN + ReLU) or the RKAN paper's (BN only).

mmpretrain's :class:`~mmpretrain.models.backbones.DenseNet` ends with
``transitions[-1] = Sequential(BN, ReLU)``, as torchvision's forward does
(``relu(norm5(y))``). The RKAN paper's code pools ``norm5(y)`` directly, with
no ReLU at all, in its plain DenseNet and in RKAN-DenseNet, where the last
stage's residual is added after ``norm5``: features ``norm5(y) + r``
(docs/families.md §3). A network trained one way computes another function
the other way (logits differ by more than 100%), so the head is an argument.

``final_relu=False`` replaces the ReLU of ``transitions[-1]`` with an
``nn.Identity`` when the plain backbone is built, before RKAN's stage
discovery runs; the last stage's ``y`` is the input of that activation, so
``RKANDenseNet`` computes ``Identity(norm5(y) + r)`` = the paper's head, and
``relu(norm5(y) + r)`` with ``final_relu=True``. No parameter or key changes.

Default ``final_relu=True``: the public ImageNet DenseNet weights (mmpretrain's,
converted from torchvision's) were trained with that ReLU, so starting from
them keeps their function bit for bit; the paper-fidelity configs
(``configs/imagenet/densenet169_*``, ``rkan-densenet169_*``) and checkpoints
converted from the paper's code set ``final_relu=False``.
"""
from mmengine.registry import MODELS
from mmpretrain.models.backbones import DenseNet
from torch import nn


@MODELS.register_module()
class PlainDenseNet(DenseNet):
    """mmpretrain's DenseNet (every argument as there) plus ``final_relu``.

    Shapes: image (B, 3, H, W) -> stage ``i`` output (B, C_i, H/2^(i+2), W/2^(i+2))
    for i < 3 and (B, C_3, H/32, W/32) for the last stage (DenseNet-169:
    C = 128, 256, 640, 1664).

    Args:
        final_relu: True keeps mmpretrain's ReLU after the final BN; False is
            the RKAN paper's head (the final BN output is the feature).
    """

    def __init__(self, *args, final_relu: bool = True, **kwargs) -> None:
        if not isinstance(final_relu, bool):
            raise ValueError(f'final_relu must be True or False, got {final_relu!r} '
                             f'({type(final_relu).__name__})')
        super().__init__(*args, **kwargs)
        self.final_relu = final_relu
        if not final_relu:
            self.transitions[-1][1] = nn.Identity()
