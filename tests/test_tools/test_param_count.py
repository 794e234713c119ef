"""rkan_mmdet.analysis.param_count: the paper's profiler count skips GroupNorm,
custom parameters and modules that do not run; sum(p.numel()) counts all;
the benchmark prints both, labelled."""
from pathlib import Path

import pytest
import torch
from torch import nn

from rkan_mmdet.analysis import benchmark
from rkan_mmdet.analysis.param_count import all_params, profiler_params


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


def test_benchmark_prints_both_counts_labelled(tmp_path: Path,
                                              capsys: pytest.CaptureFixture) -> None:
    benchmark.main(['rkanet50', '--params-only', '--backbone-only', '--plugin', 'ELA',
                    '--input-size', '64', '64', '--json', str(tmp_path / 'params.json')])
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith('rkanet50'))
    # RKAN-R50 + ELA backbone: 23,508,032 + 876,032 + 1,578,083 (tests/test_plugins)
    assert row.split()[:5] == ['rkanet50', 'backbone', 'ELA', '25,962,147', '25,931,840']
    assert 'params M: all parameters: sum(p.numel() for p in model.parameters())' in out
    assert 'profiler M: profiler count:' in out and 'skips GroupNorm' in out
    assert 'median' not in out  # nothing timed


@pytest.mark.parametrize('argv,message', [
    (['senet50', '--params-only', '--plugin', 'ELA'],
     "error: --plugin ELA: the backbone of senet50 (PlainSEResNet) takes no mmdet "
     "'plugins' argument"),
    (['resnet5', '--params-only'],
     "error: unknown model 'resnet5': not a preset (resnet50, rkanet50, rkanet50_2xl, "
     "senet50, rkan_senet50) nor a config file"),
])
def test_bad_model_or_plugin_is_one_line_exit_2(argv: list, message: str, tmp_path: Path,
                                                capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exit_info:
        benchmark.main([*argv, '--json', str(tmp_path / 'params.json')])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.splitlines() == [message]
    assert not (tmp_path / 'params.json').exists()
