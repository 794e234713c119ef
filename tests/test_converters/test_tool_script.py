"""tools/model_converters/rkan_reference_to_mmdet.py is a thin command line over the package."""
import runpy
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / 'tools' / 'model_converters' / 'rkan_reference_to_mmdet.py'


def test_tool_runs_the_package_main_without_path_edits(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture) -> None:
    text = TOOL.read_text()
    assert 'sys.path' not in text and 'from rkan_mmdet.converters import main' in text
    monkeypatch.setattr(sys, 'argv', [str(TOOL), str(tmp_path / 'missing.pth'),
                                      str(tmp_path / 'out.pth')])
    with pytest.raises(SystemExit) as exit_:
        runpy.run_path(str(TOOL), run_name='__main__')
    assert exit_.value.code == 2
    assert capsys.readouterr().err.splitlines() == [
        f'error: {tmp_path / "missing.pth"}: no such file, not a checkpoint']
