"""Root-registry modules are found by mmdet and mmpretrain registries."""
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Iterator

import pytest
from mmdet.registry import MODELS as MMDET_MODELS
from mmengine.registry import MODELS as ROOT_MODELS
from mmpretrain.registry import MODELS as MMPRETRAIN_MODELS
from torch import nn

from rkan_mmdet.models import KANConv2d

PROBE = 'RkanRegistryProbeForTests'


class _Probe(nn.Module):

    def __init__(self, width: int = 1) -> None:
        super().__init__()
        self.width = width


@pytest.fixture
def probe_in_root() -> Iterator[type]:
    ROOT_MODELS.register_module(name=PROBE, module=_Probe)
    yield _Probe
    ROOT_MODELS._module_dict.pop(PROBE)


def test_child_registries_build_a_root_registered_module(
        probe_in_root: type) -> None:
    assert PROBE not in MMDET_MODELS._module_dict  # only in the root
    for registry in (MMDET_MODELS, MMPRETRAIN_MODELS):
        module = registry.build(dict(type=PROBE, width=7))
        assert type(module) is probe_in_root
        assert module.width == 7


def test_rkan_modules_live_in_root_and_resolve_from_both_children() -> None:
    assert ROOT_MODELS.get('KANConv2d') is KANConv2d
    assert MMDET_MODELS.get('KANConv2d') is KANConv2d
    assert MMPRETRAIN_MODELS.get('KANConv2d') is KANConv2d
    conv = MMDET_MODELS.build(
        dict(type='KANConv2d', kan_type='chebyshev', degree=2, stride=2))
    assert type(conv) is KANConv2d
    assert (conv.kan_type, conv.stride) == ('chebyshev', 2)


def test_custom_imports_config_registers_in_a_fresh_process(
        tmp_path: Path) -> None:
    cfg = tmp_path / 'rkan_cfg.py'
    cfg.write_text(
        textwrap.dedent("""\
        custom_imports = dict(imports=['rkan_mmdet'],
                              allow_failed_imports=False)
        model = dict(type='KANConv2d', kan_type='chebyshev', stride=2)
        """))
    script = textwrap.dedent(f"""\
        import sys
        from mmengine import Config
        from mmdet.registry import MODELS as D
        from mmpretrain.registry import MODELS as P
        assert 'rkan_mmdet' not in sys.modules
        cfg = Config.fromfile({str(cfg)!r})
        assert 'rkan_mmdet' in sys.modules
        for reg in (D, P):
            m = reg.build(cfg.model)
            print(type(m).__module__, type(m).__name__, m.stride)
        """)
    res = subprocess.run([sys.executable, '-c', script],
                         capture_output=True,
                         text=True,
                         timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.splitlines(
    ) == ['rkan_mmdet.models.layers.kan_conv KANConv2d 2'] * 2
