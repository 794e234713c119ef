"""The embedded CPU demo: synthetic data -> train -> test -> COCO AP.

    python tools/demo/run_demo.py [--work-dir work_dirs/demo] [--min-ap 0.5]
                                  [--cfg-options k=v ...]

Generates ``data/coco_demo/`` if it is absent or was written by another
version of the generator, trains RKAN-ResNet-18
Mask R-CNN (configs/demo/mask_rcnn_rkanet18_demo.py) with ``tools/train.py``,
evaluates the last checkpoint with ``tools/test.py`` and prints the COCO
bbox and segm AP@[.5:.95] and the total wall time.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional

ROOT = Path(__file__).resolve().parents[2]
CONFIG = 'configs/demo/mask_rcnn_rkanet18_demo.py'
DATA_ROOT = 'data/coco_demo'
METRICS = ('coco/bbox_mAP', 'coco/segm_mAP')


def read_test_metrics(work_dir: Path) -> Dict[str, float]:
    """The metrics of the newest ``tools/test.py`` run in ``work_dir``, as
    written by MMEngine's LoggerHook to ``<work_dir>/<timestamp>/<timestamp>.json``."""
    logs = sorted(work_dir.glob('*/*.json'), key=lambda p: p.stat().st_mtime)
    for log in reversed(logs):
        for line in reversed(log.read_text().splitlines()):
            record = json.loads(line) if line.strip() else {}
            if METRICS[0] in record:
                return record
    raise FileNotFoundError(f'no test metrics ({METRICS[0]}) in {work_dir}/*/*.json')


def data_version(data_root: Path) -> Optional[int]:
    """The generator version recorded in ``data_root``'s val annotations (None if absent)."""
    ann = data_root / 'annotations' / 'instances_val2017.json'
    if not ann.exists():
        return None
    return json.loads(ann.read_text()).get('info', {}).get('version')


def generator_version() -> int:
    """``VERSION`` of tools/demo/make_coco_demo.py, read without importing cv2 here."""
    text = (ROOT / 'tools' / 'demo' / 'make_coco_demo.py').read_text()
    return int(re.search(r'^VERSION = (\d+)', text, re.M).group(1))


# glibc returns every large tensor's memory to the OS on free, so the next
# allocation page-faults it back in; on small VMs that costs more than the
# maths. Keeping freed memory in the heap makes the CPU demo markedly faster.
MALLOC_ENV = {'MALLOC_MMAP_THRESHOLD_': str(2**25), 'MALLOC_TRIM_THRESHOLD_': str(2**36)}


def run(tool: str, args: List[str]) -> None:
    """Run ``tools/<tool>`` with this interpreter in the repo root; stop on failure."""
    cmd = [sys.executable, str(ROOT / 'tools' / tool), *args]
    env = {**MALLOC_ENV, **os.environ}
    if subprocess.run(cmd, cwd=ROOT, env=env).returncode:
        raise SystemExit(f'demo stopped: {" ".join(cmd)} failed')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--work-dir', default='work_dirs/demo')
    parser.add_argument('--min-ap', type=float, default=None,
                        help='exit 1 if bbox or segm AP is below this')
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        help='passed to train.py and test.py')
    args = parser.parse_args()
    start = time.time()
    found, wanted = data_version(ROOT / DATA_ROOT), generator_version()
    if found != wanted:
        if found is not None or (ROOT / DATA_ROOT / 'annotations').exists():
            print(f'{DATA_ROOT} was made by generator version {found}, this is {wanted}: '
                  'regenerating it')
        run('demo/make_coco_demo.py', ['--out', DATA_ROOT])
    options = ['--cfg-options', *args.cfg_options] if args.cfg_options else []
    work_dir = ROOT / args.work_dir
    run('train.py', [CONFIG, '--work-dir', str(work_dir), *options])
    checkpoint = (work_dir / 'last_checkpoint').read_text().strip()
    run('test.py', [CONFIG, checkpoint, '--work-dir', str(work_dir), *options])
    metrics = read_test_metrics(work_dir)
    minutes, seconds = divmod(time.time() - start, 60)
    print(f'\nRKAN demo on the synthetic val split: '
          f'bbox AP@[.5:.95] = {metrics[METRICS[0]]:.3f}, '
          f'segm AP@[.5:.95] = {metrics[METRICS[1]]:.3f}; '
          f'total wall time {int(minutes)} min {seconds:.0f} s')
    if args.min_ap is not None and min(metrics[m] for m in METRICS) < args.min_ap:
        raise SystemExit(f'AP below --min-ap {args.min_ap}')


if __name__ == '__main__':
    main()
