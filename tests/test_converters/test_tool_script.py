"""tools/model_converters/rkan_reference_to_mmdet.py is a thin command line over the package."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / 'tools' / 'model_converters' / 'rkan_reference_to_mmdet.py'


def test_tool_runs_the_package_main_without_path_edits(tmp_path: Path) -> None:
    text = TOOL.read_text()
    assert 'sys.path' not in text and 'from rkan_mmdet.converters import main' in text
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS='1')
    done = subprocess.run([sys.executable, str(TOOL), str(tmp_path / 'missing.pth'),
                           str(tmp_path / 'out.pth')], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=300)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f'error: {tmp_path / "missing.pth"}: no such file, not a checkpoint']
