"""This project's modules live in mmengine's root registries and are found by
mmdet's and mmpretrain's registries."""
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Dict

import mmdet.registry as mmdet_registry
import mmengine.registry as mmengine_registry
import mmpretrain.registry as mmpretrain_registry
import pytest
from mmdet.registry import MODELS as MMDET_MODELS
from mmengine.registry import MODELS as ROOT_MODELS
from mmengine.registry import Registry
from mmpretrain.registry import MODELS as MMPRETRAIN_MODELS

import rkan_mmdet  # noqa: F401  (registers every module of the package)
from rkan_mmdet.models import KANConv2d

REGISTRIES = ('MODELS', 'HOOKS', 'OPTIM_WRAPPERS')


def ours(registry: Registry) -> Dict[str, type]:
    """``{name: class}`` that this project registered in ``registry``."""
    return {name: cls for name, cls in registry.module_dict.items()
            if getattr(cls, '__module__', '').startswith('rkan_mmdet.')}


@pytest.mark.parametrize('kind', REGISTRIES)
def test_every_registered_name_resolves_from_mmdet_and_mmpretrain(kind: str) -> None:
    """What ``import rkan_mmdet`` registers goes into mmengine's root registry,
    so mmdet's and mmpretrain's configs find it by the same name, and neither
    child registry holds another class under that name."""
    root = getattr(mmengine_registry, kind)
    registered = ours(root)
    assert registered, f'rkan_mmdet registers nothing in {kind}'
    for child in (getattr(mmdet_registry, kind), getattr(mmpretrain_registry, kind)):
        assert child.parent is root
        assert not set(registered) & set(child.module_dict), child.scope
        assert {name: child.get(name) for name in registered} == registered
        assert not ours(child)  # nothing of ours registered in a child only


def test_rkan_modules_live_in_root_and_resolve_from_both_children() -> None:
    assert ROOT_MODELS.get('KANConv2d') is KANConv2d
    assert MMDET_MODELS.get('KANConv2d') is KANConv2d
    assert MMPRETRAIN_MODELS.get('KANConv2d') is KANConv2d
    conv = MMDET_MODELS.build(
        dict(type='KANConv2d', kan_type='chebyshev', degree=2, stride=2))
    assert type(conv) is KANConv2d
    assert (conv.kan_type, conv.stride) == ('chebyshev', 2)


@pytest.mark.slow  # a fresh interpreter imports mmdet, mmpretrain and the package
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
