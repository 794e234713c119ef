"""tools/analysis/param_count.py: the paper's profiler count skips GroupNorm,
custom parameters and modules that do not run; sum(p.numel()) counts all;
benchmark.py prints both, labelled."""
import subprocess
import sys
from pathlib import Path

import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from tools.analysis.param_count import all_params, profiler_params  # noqa: E402


class Toy(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)             # 3*4*9 + 4 = 112, counted
        self.bn = nn.BatchNorm2d(4)                # 8, counted
        self.gn = nn.GroupNorm(2, 4)               # 8, skipped: GroupNorm
        self.scale = nn.Parameter(torch.ones(4))   # 4, skipped: custom parameter
        self.shared = nn.Linear(4, 2)              # 10, counted once though run twice
        self.unused = nn.Linear(4, 100)            # 500, skipped: never runs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.gn(self.bn(self.conv(x))) * self.scale[:, None, None]
        v = y.mean((2, 3))
        return self.shared(v) + self.shared(v)


def test_counts_follow_the_profiler_rule() -> None:
    model = Toy().train()
    assert all_params(model) == 112 + 8 + 8 + 4 + 10 + 500
    assert profiler_params(model, lambda m: m(torch.randn(2, 3, 5, 5))) == 112 + 8 + 10
    assert model.training                                   # mode restored
    assert not any(m._forward_hooks for m in model.modules())  # hooks removed
    assert model.bn.num_batches_tracked == 0               # ran in eval mode


def test_benchmark_prints_both_counts_labelled(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, 'tools/analysis/benchmark.py', 'rkanet50', '--params-only',
         '--backbone-only', '--plugin', 'ELA', '--input-size', '64', '64',
         '--json', str(tmp_path / 'params.json')],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    row = next(line for line in run.stdout.splitlines() if line.startswith('rkanet50'))
    # RKAN-R50 + ELA backbone: 23,508,032 + 876,032 + 1,578,083 (tests/test_plugins)
    assert row.split()[:5] == ['rkanet50', 'backbone', 'ELA', '25,962,147', '25,931,840']
    assert 'params M: all parameters: sum(p.numel() for p in model.parameters())' in run.stdout
    assert 'profiler M: profiler count:' in run.stdout and 'skips GroupNorm' in run.stdout
    assert 'median' not in run.stdout  # nothing timed


def test_plugin_on_a_backbone_without_plugins_is_one_line_exit_2() -> None:
    run = subprocess.run(
        [sys.executable, 'tools/analysis/benchmark.py', 'senet50', '--params-only',
         '--plugin', 'ELA'], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 2
    assert run.stderr.strip().splitlines()[-1] == (
        "error: --plugin ELA: the backbone of senet50 (PlainSEResNet) takes no mmdet "
        "'plugins' argument")
    assert 'Traceback' not in run.stderr
