"""rkan_mmdet.analysis.kan_functions and .curves (tools/analysis/plot_kan_functions.py,
plot_curves.py) on real models and logs.

The KAN plots run on the detection demo's seeded initial state, on a bare
backbone checkpoint written here, and on the checkpoint of a real 2-iteration
``tools/train.py`` run of the classification demo; that run's MMEngine json
logs feed the curve tool. Every PNG must have the tools' fixed pixel size.
"""
import copy
import json
import shutil
from pathlib import Path
from typing import Dict, List

import numpy as np
import pytest
import torch
from mmengine.config import Config
from PIL import Image

import rkan_mmdet  # noqa: F401  (registers backbones, safe checkpoint loading)
from rkan_mmdet.analysis import curves as curve_tool
from rkan_mmdet.analysis import kan_function_data as kan_tool
from rkan_mmdet.analysis import kan_functions
from rkan_mmdet.models import KANConv2d

from .. import ROOT
from ..demo_runs import CLASSIFIER_DEMO as CLS_DEMO
from ..demo_runs import DEMO as DET_DEMO

KAN_PNG = (900, 800)  # (width, height): figsize (9, 8) at dpi 100
CURVE_PNG = (800, 600)  # figsize (8, 6) at dpi 100
FAST = ['--num-images', '1', '--image-size', '64']




def png_size(path: Path) -> tuple:
    assert path.is_file() and path.stat().st_size > 0, path
    with Image.open(path) as img:
        assert img.format == 'PNG'
        return img.size


def conv_names(model: torch.nn.Module) -> List[str]:
    """KANConv2d paths counted from the model itself, not through the tool."""
    return [n for n, m in model.named_modules() if isinstance(m, KANConv2d)]


def assert_one_png_per_conv(paths: List[Path], out_dir: Path, names: List[str]) -> None:
    assert names, 'the model has no KANConv2d'
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(f'{n}.png' for n in names)
    assert sorted(paths) == sorted(out_dir / f'{n}.png' for n in names)
    for path in paths:
        assert png_size(path) == KAN_PNG


def assert_curves_are_tap_functions(model: torch.nn.Module,
                                    reference: Dict[str, torch.Tensor]) -> None:
    """Tool curves == ``tap_functions`` of each conv rebuilt from ``reference`` weights."""
    for name, conv in kan_tool.kan_convs(model).items():
        fresh = copy.deepcopy(conv)
        fresh.load_state_dict({k: reference[f'{name}.{k}'] for k in conv.state_dict()})
        u, f = kan_tool.compute_curves(conv, -2.5, 1.5, num=33)
        with torch.no_grad():
            expected = fresh.tap_functions(torch.from_numpy(u))
        assert f.shape == (33, 9)
        np.testing.assert_allclose(f, expected.numpy(), rtol=1e-6, atol=1e-6)


# ------------------------------------------------------------ KAN functions
def test_kan_plots_of_initial_state(tmp_path: Path) -> None:
    paths = kan_functions.main([str(DET_DEMO), '--random-input', *FAST,
                                '--out-dir', str(tmp_path)])
    model = kan_tool.build_model(Config.fromfile(str(DET_DEMO)), seed=0)
    assert_one_png_per_conv(paths, tmp_path, conv_names(model))
    # seeded: a second build has the same KAN weights
    again = kan_tool.build_model(Config.fromfile(str(DET_DEMO)), seed=0)
    assert_curves_are_tap_functions(model, again.state_dict())


def test_kan_plots_from_bare_backbone_checkpoint(tmp_path: Path) -> None:
    """A checkpoint of the backbone alone (no ``backbone.`` prefix) loads into
    the detector; the plotted curves are those of the saved weights."""
    cfg = Config.fromfile(str(DET_DEMO))
    source = kan_tool.build_model(cfg, seed=1)
    with torch.no_grad():
        for conv in kan_tool.kan_convs(source).values():
            for param in conv.parameters():
                param.normal_()
    ckpt = tmp_path / 'backbone.pth'
    torch.save({'state_dict': source.backbone.state_dict(), 'meta': {}}, ckpt)
    out_dir = tmp_path / 'plots'
    paths = kan_functions.main([str(DET_DEMO), '--checkpoint', str(ckpt),
                                '--range', '-2', '2', '--out-dir', str(out_dir)])
    assert_one_png_per_conv(paths, out_dir, conv_names(source))

    model = kan_tool.build_model(cfg, seed=0)
    kan_tool.load_weights(model, str(ckpt))
    assert_curves_are_tap_functions(model, source.state_dict())
    initial = kan_tool.build_model(cfg, seed=0)
    name = conv_names(model)[0]
    assert not np.allclose(kan_tool.compute_curves(kan_tool.kan_convs(model)[name], -1, 1)[1],
                           kan_tool.compute_curves(kan_tool.kan_convs(initial)[name], -1, 1)[1])


def test_kan_plots_from_trained_classifier(trained_classifier: Dict[str, Path], tmp_path: Path) -> None:
    """The real training checkpoint (``backbone.`` keys), with the forward pass on
    its images, into the classifier and into the detector."""
    ckpt = trained_classifier['checkpoint']
    state = torch.load(ckpt, map_location='cpu', weights_only=True)['state_dict']
    for config in (CLS_DEMO, DET_DEMO):
        out_dir = tmp_path / config.stem
        paths = kan_functions.main([str(config), '--checkpoint', str(ckpt), '--images',
                                    str(trained_classifier['data']), '--num-images', '2',
                                    '--image-size', '48', '--out-dir', str(out_dir)])
        model = kan_tool.build_model(Config.fromfile(str(config)))
        assert_one_png_per_conv(paths, out_dir, conv_names(model))
        kan_tool.load_weights(model, str(ckpt))
        assert_curves_are_tap_functions(model, state)


def test_input_ranges_are_quantiles_of_conv_inputs() -> None:
    model = kan_tool.build_model(Config.fromfile(str(CLS_DEMO)))
    batch = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    seen: Dict[str, torch.Tensor] = {}
    handles = [conv.register_forward_pre_hook(
        lambda m, args, n=name: seen.__setitem__(n, args[0].detach().flatten()))
        for name, conv in kan_tool.kan_convs(model).items()]
    ranges = kan_tool.input_ranges(model, batch)
    for handle in handles:
        handle.remove()
    assert set(ranges) == set(conv_names(model)) == set(seen)
    for name, (lo, hi) in ranges.items():
        expected = torch.quantile(seen[name].double(), torch.tensor([0.005, 0.995]).double())
        np.testing.assert_allclose([lo, hi], expected.numpy(), rtol=1e-5)
        assert lo < hi


def test_kan_tool_errors(tmp_path: Path) -> None:
    resnet = ROOT / 'configs' / 'imagenet' / 'resnet50_8xb32_in1k.py'
    with pytest.raises(SystemExit, match='builds no KANConv2d'):
        kan_functions.main([str(resnet), '--range', '-1', '1', '--out-dir', str(tmp_path)])
    model = kan_tool.build_model(Config.fromfile(str(CLS_DEMO)))
    no_kan = {k: v for k, v in model.state_dict().items() if 'kan_conv' not in k}
    ckpt = tmp_path / 'no_kan.pth'
    torch.save({'state_dict': no_kan, 'meta': {}}, ckpt)
    with pytest.raises(SystemExit, match=f'checkpoint {ckpt} has no KAN conv weights'):
        kan_tool.load_weights(model, str(ckpt))
    with pytest.raises(SystemExit, match='missing.pth does not exist'):
        kan_tool.load_weights(model, str(tmp_path / 'missing.pth'))
    with pytest.raises(SystemExit, match='LO must be below HI'):
        kan_functions.main([str(CLS_DEMO), '--range', '1', '-1'])


# ------------------------------------------------------------ training curves
def test_curves_of_a_real_run(trained_classifier: Dict[str, Path], tmp_path: Path) -> None:
    work_dir = trained_classifier['work_dir']
    paths = curve_tool.main([str(work_dir), '--out-dir', str(tmp_path)])
    assert [p.name for p in paths] == ['losses.png', 'metrics.png']
    for path in paths:
        assert png_size(path) == CURVE_PNG

    log = curve_tool.find_log(work_dir)
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    train, val = curve_tool.read_scalars(log)
    assert len(train) == 2 and len(val) == 1
    losses, lr, metrics = curve_tool.curves(train, val)
    assert losses['loss'] == ([1, 2], [r['loss'] for r in lines[:2]])
    assert lr['lr'][1] == [r['lr'] for r in lines[:2]]
    assert metrics == {'accuracy/top1': ([1], [lines[2]['accuracy/top1']])}


def test_curves_pick_the_latest_run(trained_classifier: Dict[str, Path], tmp_path: Path) -> None:
    run = curve_tool.find_log(trained_classifier['work_dir']).parent.parent
    work_dir = tmp_path / 'work_dir'
    shutil.copytree(run, work_dir / '20000101_000000')  # an older run: train lines only
    log = work_dir / '20000101_000000' / 'vis_data' / 'scalars.json'
    log.write_text(''.join(line + '\n' for line in log.read_text().splitlines()[:2]))
    shutil.copytree(run, work_dir / run.name)
    assert curve_tool.find_log(work_dir).parent.parent.name == run.name
    assert len(curve_tool.main([str(work_dir)])) == 2
    assert (work_dir / run.name / 'plots' / 'metrics.png').is_file()
    paths = curve_tool.main([str(work_dir), '--run', '20000101_000000'])
    assert [p.name for p in paths] == ['losses.png']  # no val lines, no metrics.png
    assert png_size(paths[0]) == CURVE_PNG


def test_curves_of_detection_format(tmp_path: Path) -> None:
    """mmdet's json lines (loss_* at iterations, coco/* at epochs), written here."""
    vis = tmp_path / '20240101_120000' / 'vis_data'
    vis.mkdir(parents=True)
    lines = [{'lr': 0.01 * i, 'loss': 3.0 - i, 'loss_cls': 1.0, 'loss_mask': 0.5,
              'time': 1.0, 'data_time': 0.1, 'memory': 100, 'epoch': 1, 'iter': i, 'step': i}
             for i in (1, 2)]
    lines.append({'coco/bbox_mAP': 0.1, 'coco/bbox_mAP_s': 0.0, 'coco/segm_mAP': 0.08,
                  'coco/segm_mAP_50': 0.2, 'data_time': 0.1, 'time': 0.5, 'step': 1})
    (vis / 'scalars.json').write_text(''.join(json.dumps(r) + '\n' for r in lines))
    train, val = curve_tool.read_scalars(vis / 'scalars.json')
    losses, _, metrics = curve_tool.curves(train, val)
    assert list(losses) == ['loss', 'loss_cls', 'loss_mask']
    assert list(metrics) == ['coco/bbox_mAP', 'coco/segm_mAP', 'coco/segm_mAP_50']
    for path in curve_tool.main([str(tmp_path), '--out-dir', str(tmp_path / 'out')]):
        assert png_size(path) == CURVE_PNG


def test_curve_tool_errors(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match=f'work_dir {tmp_path} has no MMEngine json logs'):
        curve_tool.main([str(tmp_path)])
    (tmp_path / 'r1' / 'vis_data').mkdir(parents=True)
    (tmp_path / 'r1' / 'vis_data' / 'scalars.json').write_text('{"lr": 1, "step": 1}\n')
    with pytest.raises(SystemExit, match='--run r2 not in'):
        curve_tool.main([str(tmp_path), '--run', 'r2'])
    with pytest.raises(SystemExit, match='has no train lines with loss values'):
        curve_tool.main([str(tmp_path)])
