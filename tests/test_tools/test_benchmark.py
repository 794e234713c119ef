"""rkan_mmdet.analysis.benchmark (tools/analysis/benchmark.py): the table and
JSON of docs/performance.md's command, and the weight sharing that makes
detector ratios measure the backbone alone."""
import json
from argparse import Namespace
from pathlib import Path

import pytest
import torch

from rkan_mmdet.analysis import benchmark, benchmark_models
from rkan_mmdet.analysis.kan_conv_benchmark import unfold_kan_conv
from rkan_mmdet.models import KAN_TYPES, KANConv2d

from ..demo_runs import PYTHON, run
from ..test_layers.reference import reference_kan_conv


@pytest.mark.slow  # three full-size Mask R-CNNs
def test_shared_weights_give_identical_detections() -> None:
    """RKAN-R50 Mask R-CNN with R50's weights and its RKAN block as a no-op
    predicts exactly what R50 predicts, so both do the same head work."""
    args = Namespace(input_size=(96, 128), batch_size=1)
    torch.manual_seed(0)
    reference = benchmark_models.build('resnet50', 'detector', 'cpu').state_dict()
    x = torch.randn(1, 3, 96, 128, generator=torch.Generator().manual_seed(1))
    preds = []
    for name in ('resnet50', 'rkanet50'):
        torch.manual_seed(1)  # a different init: sharing must overwrite it
        model = benchmark_models.build(name, 'detector', 'cpu')
        benchmark_models.share_weights(model, reference)
        model.eval()
        with torch.no_grad():
            preds.append(model.predict(x, benchmark_models.detection_samples(args))[0].pred_instances)
    assert len(preds[0]) == len(preds[1]) == 100  # score_thr 0, max_per_img 100
    torch.testing.assert_close(preds[1].bboxes, preds[0].bboxes, rtol=0, atol=0)
    assert torch.equal(preds[1].labels, preds[0].labels)


@pytest.mark.slow  # the tool as a subprocess, two ResNet-50s timed, two memory children
def test_backbone_table_and_json(tmp_path: Path) -> None:
    """The command line the Makefile's ``benchmark`` target runs, shrunk."""
    out = tmp_path / 'bench.json'
    done = run([PYTHON, 'tools/analysis/benchmark.py', '--backbone-only', '--input-size', '64',
                '64', '--batch-size', '1', '--repeats', '1', '--warmup', '0', '--json', str(out)],
               timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert '[backbone train] round 1/1' in done.stderr + done.stdout
    report = json.loads(out.read_text())
    rows = report['rows']
    # glibc (this project's Linux machines) takes the allocator setting
    assert report['args']['kept_freed_memory'] is True
    assert 'kept_freed_memory=True' in done.stdout
    assert [(r['model'], r['part']) for r in rows] == [('resnet50', 'backbone'),
                                                       ('rkanet50', 'backbone')]
    assert round(rows[0]['params_m'], 2) == 23.51 and round(rows[1]['params_m'], 2) == 25.09
    # RKAN adds 3.9% FLOPs to ResNet-50 (69.7 vs 67.1 GFLOPs at 640x640)
    assert 1.035 < rows[1]['gflops'] / rows[0]['gflops'] < 1.045
    for mode in ('forward', 'train'):
        base, rkan = rows[0][mode], rows[1][mode]
        # each model's median against the first model's, and batch 1 over the median
        assert rkan['ratio'] == rkan['median'] / base['median']
        assert rkan['img_per_s'] == 1 / rkan['median'] * 1e3
        for t in (base, rkan):
            assert 0 < t['min'] <= t['median'] <= t['max']
    table = done.stdout.splitlines()
    for row in rows:
        assert row['peak_mb'] > 0
        printed = next(line.split() for line in table if line.startswith(f'{row["model"]} ')
                       and ' train ' in line)
        assert printed[7] == f'{row["train"]["ratio"]:.3f}'  # the ratio column shows the JSON's


@pytest.mark.slow  # two memory children import mmdet
def test_system_malloc_flag_leaves_the_allocator_alone(tmp_path: Path) -> None:
    out = tmp_path / 'bench.json'
    benchmark.main(['resnet50', '--backbone-only', '--input-size', '32', '32', '--batch-size',
                    '1', '--repeats', '1', '--warmup', '0', '--system-malloc', '--json', str(out)])
    assert json.loads(out.read_text())['args']['kept_freed_memory'] is False


@pytest.mark.parametrize('kan_type', KAN_TYPES)
def test_kan_conv_benchmark_baseline_is_the_literal_conv(kan_type: str) -> None:
    """The slow side of tools/analysis/benchmark_kan_conv.py computes the KAN
    conv: it equals the tests' independent literal reference (float64, 1e-12),
    with stride 2 and dilation 2, on trained-looking (perturbed) weights."""
    gen = torch.Generator().manual_seed(4)
    conv = KANConv2d(kan_type, stride=2, dilation=2).double()
    with torch.no_grad():
        for p in conv.parameters():
            p.add_(0.3 * torch.randn(p.shape, generator=gen, dtype=p.dtype))
    x = 1.5 * torch.randn(2, 3, 9, 8, generator=gen, dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(unfold_kan_conv(conv, x), reference_kan_conv(conv, x),
                                   rtol=1e-12, atol=1e-12)
