"""The same seed with ``randomness.deterministic=True`` gives the same losses."""
from pathlib import Path
from typing import Dict

from .conftest import logged_losses, run, train_command


def test_two_runs_log_identical_losses(tiny_coco: Path, tmp_path: Path,
                                       reference_losses: Dict[int, float]) -> None:
    done = run(train_command(tiny_coco, tmp_path, 5))
    assert done.returncode == 0, done.stderr[-3000:]
    losses = logged_losses(tmp_path)
    assert sorted(losses) == [1, 2, 3, 4, 5]
    assert losses == reference_losses  # bit-identical floats
    assert len(set(losses.values())) == 5  # the model did train: no constant loss
