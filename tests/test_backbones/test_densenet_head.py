"""DenseNet's final head (docs/paper_models.md): the paper's (no final ReLU) and mmpretrain's.

The reference is the paper's RKAN-DenseNet forward written out over the same
weights (paper_reference.densenet_features).
"""
import pytest
import torch
from mmpretrain.models.backbones import DenseNet

from rkan_mmdet.models import PlainDenseNet, RKANDenseNet

from .paper_reference import densenet_features, randomise_norms

TINY = dict(growth_rate=8, depths=[2, 2, 3, 2], init_channels=16)


@pytest.mark.parametrize('mechanisms', [(None, None, None, 'addition'),
                                        (None, None, 'addition', 'addition')],
                         ids=['stage4', 'stages3-4'])
def test_paper_head_equals_the_reference(mechanisms: tuple) -> None:
    torch.manual_seed(0)
    model = RKANDenseNet(arch=TINY, final_relu=False, rkan_mechanisms=mechanisms,
                         rkan_zero_init=False, out_indices=(3, ))
    randomise_norms(model)
    model.eval()
    x = torch.randn(2, 3, 64, 96)  # every stage even-sized, as at 224 px (no cropping)
    with torch.no_grad():
        ours = model(x)[0].mean((2, 3))
        ref = densenet_features(model, x)
    assert torch.allclose(ours, ref, rtol=0, atol=1e-6)
    assert (ref < 0).any()  # no ReLU: negative pooled features exist
    relu_model = RKANDenseNet(arch=TINY, final_relu=True, rkan_mechanisms=mechanisms,
                              rkan_zero_init=False, out_indices=(3, ))
    relu_model.load_state_dict(model.state_dict())
    relu_model.eval()
    with torch.no_grad():
        relu_out = relu_model(x)[0]
        assert torch.equal(relu_out, torch.relu(model(x)[0]))
    assert not torch.allclose(relu_out.mean((2, 3)), ref, atol=1e-3)


def test_mmpretrain_head_is_mmpretrain_bit_for_bit() -> None:
    """Default final_relu=True: over mmpretrain DenseNet weights a zero-init
    RKANDenseNet computes mmpretrain's DenseNet exactly; the keys are the same."""
    torch.manual_seed(0)
    plain = DenseNet(arch=TINY, out_indices=(0, 1, 2, 3))
    randomise_norms(plain)
    model = RKANDenseNet(arch=TINY, out_indices=(0, 1, 2, 3),
                         rkan_mechanisms=('addition', ) * 4, reduce_factor=1)
    result = model.load_state_dict(plain.state_dict(), strict=False)
    assert result.unexpected_keys == []
    assert all(k.startswith('rkan_layers.') for k in result.missing_keys)
    x = torch.randn(2, 3, 64, 48)
    for train in (False, True):
        plain.train(train), model.train(train)
        with torch.no_grad():
            for ours, theirs in zip(model(x), plain(x), strict=True):
                assert torch.equal(ours, theirs)
    assert set(PlainDenseNet(arch=TINY, final_relu=False).state_dict()) == set(plain.state_dict())
