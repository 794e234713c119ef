"""The embedded CPU demo: synthetic data -> train -> test -> COCO AP -> pictures.

    python tools/demo/run_demo.py [--work-dir work_dirs/demo] [--min-ap 0.5]
                                  [--cfg-options k=v ...]

In one process (the heavy imports happen once):

1. generates ``data/coco_demo/`` if it is absent or was written by another
   version of the generator (:mod:`rkan_mmdet.demo.coco_data`);
2. trains RKAN-ResNet-18 Mask R-CNN (configs/demo/mask_rcnn_rkanet18_demo.py)
   with ``tools/train.py``;
3. evaluates the last checkpoint on the val split with ``tools/test.py``;
4. draws pictures into ``<work-dir>/pictures/`` (:func:`write_pictures`):
   ground truth | prediction for the first few val images (``tools/test.py
   --show-dir``), the learned KAN functions of the trained model
   (:mod:`rkan_mmdet.analysis.kan_functions`) and the training curves
   (:mod:`rkan_mmdet.analysis.curves`);
5. prints a summary: bbox and segm AP@[.5:.95], the wall time, and where the
   checkpoint and the pictures are.

The tools run through their own ``main()`` with their own argument parsing,
exactly as from the command line. Paths are relative to the repository root
(the checkout this package is installed from, editable).
"""
import argparse
import gc
import json
import os
import re
import sys
import time
import warnings
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from rkan_mmdet.analysis import curves as loss_curves
from rkan_mmdet.analysis import kan_functions
from rkan_mmdet.cli import test as cli_test
from rkan_mmdet.cli import train as cli_train

ROOT = Path(__file__).resolve().parents[2]
CONFIG = 'configs/demo/mask_rcnn_rkanet18_demo.py'
DATA_ROOT = 'data/coco_demo'
METRICS = ('coco/bbox_mAP', 'coco/segm_mAP')
NUM_DRAWN = 4  # val images drawn with ground truth and prediction (one test batch)

# glibc returns every large tensor's memory to the OS on free, so the next
# allocation page-faults it back in; on small VMs that costs more than the
# maths. Keeping freed memory in the heap makes the CPU demo markedly faster.
# glibc reads these at start-up: main() re-executes itself once to set them.
MALLOC_ENV = {'MALLOC_MMAP_THRESHOLD_': str(2**25), 'MALLOC_TRIM_THRESHOLD_': str(2**36)}


def quiet_known_warnings() -> None:
    """Silence two known, harmless notices of the pinned stack, by message:
    mmengine 0.10.7 imports (and reloads) ``pkg_resources``, which setuptools
    (pinned < 81 for the mmcv build) flags as deprecated, four times per run;
    mmengine's visualizer notes every predicted box or polygon that pokes out
    of the image."""
    warnings.filterwarnings('ignore', message='pkg_resources is deprecated as an API',
                            category=UserWarning)
    for shape in ('bbox', 'polygon'):
        warnings.filterwarnings('ignore', message=f'Warning: The {shape} is out of bounds',
                                category=UserWarning, module='mmengine.visualization')


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
    """``VERSION`` of :mod:`.coco_data`, read without importing cv2 here."""
    text = (Path(__file__).with_name('coco_data.py')).read_text()
    return int(re.search(r'^VERSION = (\d+)', text, re.M).group(1))


def run_tool(tool: str, args: List[str], cfg_options: Sequence[str] = ()) -> None:
    """``tools/<tool>.py`` (``train`` or ``test``, i.e. ``rkan_mmdet.cli.<tool>``)
    on ``args --cfg-options ...``. Each run gets its own visualizer: MMEngine
    keeps one per name per process, and the configs all name theirs 'visualizer'."""
    options = [*cfg_options, f'visualizer.name=rkan_demo_{time.time_ns()}']
    main = cli_train.main if tool == 'train' else cli_test.main
    try:
        main([*args, '--cfg-options', *options])
    finally:
        gc.collect()  # the Runner and its data-loader workers


def train_run_dir(work_dir: Path) -> Path:
    """The newest ``<work_dir>/<timestamp>/`` whose json log has training losses."""
    for log in sorted(work_dir.glob('*/vis_data/scalars.json'), reverse=True):
        if '"loss"' in log.read_text():
            return log.parent.parent
    raise FileNotFoundError(f'no training run with losses in {work_dir}/*/vis_data/')


def write_pictures(checkpoint: Path, work_dir: Path, images: Path,
                   cfg_options: Sequence[str] = (), config: str = str(ROOT / CONFIG),
                   num_drawn: int = NUM_DRAWN) -> Dict[str, List[Path]]:
    """Draw the trained model into ``<work_dir>/pictures/``; returns the files by kind.

    * ``predictions``: ground truth | prediction (score >= 0.3) for the first
      ``num_drawn`` val images, by ``tools/test.py --show-dir`` on those images
      (its metric only saves the results, to ``test_runs/predictions.{bbox,segm}.json``);
    * ``kan_functions``: the 9 learned tap functions f_k(u) of every KAN conv
      over the inputs that ``images`` (up to 8, at 128 px) give them;
    * ``curves``: the losses and lr of the newest training run in ``work_dir``.
    """
    out = work_dir.resolve() / 'pictures'  # test.py puts a relative --show-dir elsewhere
    shown = out / 'predictions'
    run_tool('test', [config, str(checkpoint), '--work-dir', str(out / 'test_runs'),
                      '--show-dir', str(shown)],
             [*cfg_options, f'test_dataloader.dataset.indices={num_drawn}',
              'test_evaluator.format_only=True',
              f'test_evaluator.outfile_prefix={out}/test_runs/predictions',
              'log_level=WARNING'])  # the test log above already shows the config
    kan = kan_functions.main([
        config, '--checkpoint', str(checkpoint), '--images', str(images),
        '--image-size', '128', '--out-dir', str(out / 'kan_functions'),
        *(['--cfg-options', *cfg_options] if cfg_options else [])])
    curves = loss_curves.main([
        str(train_run_dir(work_dir)), '--out-dir', str(out)])
    return dict(predictions=sorted(shown.glob('*.jpg')), kan_functions=list(kan),
                curves=list(curves))


def reexec_with_malloc_env() -> None:
    """Restart this script once with :data:`MALLOC_ENV` (user values win)."""
    if not all(k in os.environ for k in MALLOC_ENV):
        os.execve(sys.executable, [sys.executable, *sys.argv], {**MALLOC_ENV, **os.environ})


def relative(path: Path) -> str:
    return os.path.relpath(path, Path.cwd())


def main(argv: Optional[Sequence[str]] = None) -> None:
    """``tools/demo/run_demo.py``: parse ``argv`` (default: the command line), run."""
    parser = argparse.ArgumentParser(prog='tools/demo/run_demo.py',
                                     description=__doc__.splitlines()[0])
    parser.add_argument('--work-dir', default='work_dirs/demo')
    parser.add_argument('--min-ap', type=float, default=None,
                        help='exit 1 if bbox or segm AP is below this')
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        help='passed to train.py and test.py')
    args = parser.parse_args(argv)
    reexec_with_malloc_env()
    quiet_known_warnings()
    start = time.time()
    os.chdir(ROOT)
    found, wanted = data_version(ROOT / DATA_ROOT), generator_version()
    if found != wanted:
        if found is not None or (ROOT / DATA_ROOT / 'annotations').exists():
            print(f'{DATA_ROOT} was made by generator version {found}, this is {wanted}: '
                  'regenerating it')
        from .coco_data import make_dataset  # cv2 only when generating
        make_dataset(DATA_ROOT)
    work_dir = ROOT / args.work_dir
    run_tool('train', [CONFIG, '--work-dir', str(work_dir)], args.cfg_options)
    checkpoint = Path((work_dir / 'last_checkpoint').read_text().strip())
    run_tool('test', [CONFIG, str(checkpoint), '--work-dir', str(work_dir)],
             args.cfg_options)
    metrics = read_test_metrics(work_dir)
    pictures = write_pictures(checkpoint, work_dir, ROOT / DATA_ROOT / 'val2017',
                              args.cfg_options)
    minutes, seconds = divmod(time.time() - start, 60)
    kan_dir = pictures['kan_functions'][0].parent
    print(f'\nRKAN demo on the synthetic val split: '
          f'bbox AP@[.5:.95] = {metrics[METRICS[0]]:.3f}, '
          f'segm AP@[.5:.95] = {metrics[METRICS[1]]:.3f}; '
          f'total wall time {int(minutes)} min {seconds:.0f} s\n'
          f'  checkpoint:    {relative(checkpoint)}\n'
          f'  predictions:   {relative(pictures["predictions"][0].parent)}/ '
          f'({len(pictures["predictions"])} val images, ground truth | prediction)\n'
          f'  KAN functions: {relative(kan_dir)}/ ({len(pictures["kan_functions"])} '
          f'KAN convs, 9 learned f_k(u) each)\n'
          f'  loss curves:   {relative(pictures["curves"][0])}')
    if args.min_ap is not None and min(metrics[m] for m in METRICS) < args.min_ap:
        raise SystemExit(f'AP below --min-ap {args.min_ap}')

