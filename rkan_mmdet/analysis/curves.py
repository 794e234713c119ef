"""Plot training curves from a work_dir's MMEngine json logs.

Why: MMEngine's ``LoggerHook`` already writes every logged scalar, one json
dict per line, to ``<work_dir>/<timestamp>/vis_data/scalars.json`` (the same
lines as ``vis_data/<timestamp>.json``); this reads that format and nothing
else.

* train lines carry ``lr`` and ``loss*`` at ``step`` = global iteration;
* val lines carry the metrics (``coco/bbox_mAP``, ``accuracy/top1``, ...)
  at ``step`` = epoch (epoch-based loops) or iteration (iteration-based).

    python tools/analysis/plot_curves.py WORK_DIR [--run TIMESTAMP]
        [--metrics REGEX] [--out-dir DIR]

Writes ``losses.png`` (every ``loss*`` and the lr vs iteration) and, when
the run was validated, ``metrics.png`` (metrics matching ``--metrics`` vs
epoch or iteration), 800x600 pixels each, to ``--out-dir`` (default
``<work_dir>/<timestamp>/plots``). With several timestamped runs in
WORK_DIR (e.g. a resumed training) the latest is used unless ``--run``.
"""
import argparse
import json
import math
import re
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

FIGSIZE = (8, 6)  # inches; at DPI this gives an 800x600 PNG
DPI = 100
DEFAULT_METRICS = r'(bbox|segm)_mAP(_50)?$|accuracy/top\d+$|mIoU$'
LOG_NAME = 'scalars.json'
NOT_METRICS = {'step', 'epoch', 'iter', 'time', 'data_time', 'lr', 'memory'}

Series = Dict[str, Tuple[List[float], List[float]]]  # key -> (x, y)


def find_log(work_dir: Path, run: Optional[str] = None) -> Path:
    """``vis_data/scalars.json`` of ``run`` (default: latest timestamp) in ``work_dir``.

    ``work_dir`` may also be a single run directory.
    """
    if (work_dir / 'vis_data' / LOG_NAME).is_file() and run is None:
        return work_dir / 'vis_data' / LOG_NAME
    runs = sorted(p.parent.parent for p in work_dir.glob(f'*/vis_data/{LOG_NAME}'))
    if not runs:
        raise SystemExit(f'work_dir {work_dir} has no MMEngine json logs '
                         f'(expected {work_dir}/<timestamp>/vis_data/{LOG_NAME})')
    if run is None:
        return runs[-1] / 'vis_data' / LOG_NAME
    names = [r.name for r in runs]
    if run not in names:
        raise SystemExit(f'--run {run} not in {work_dir}; runs: {", ".join(names)}')
    return work_dir / run / 'vis_data' / LOG_NAME


def read_scalars(path: Path) -> Tuple[List[dict], List[dict]]:
    """Split a json log into train lines (with ``lr`` or ``loss*``) and val lines."""
    train, val = [], []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            raise SystemExit(f'{path}:{number} is not a json line: {line[:60]!r}')
        if 'lr' in record or any(k.startswith('loss') for k in record):
            train.append(record)
        else:
            val.append(record)
    return train, val


def collect(records: Sequence[dict], keys: Sequence[str]) -> Series:
    """``key -> (steps, values)`` over the records that hold a finite number for key."""
    series: Series = {}
    for key in keys:
        pts = [(r['step'], r[key]) for r in records
               if isinstance(r.get(key), (int, float)) and math.isfinite(r[key])]
        if pts:
            series[key] = ([p[0] for p in pts], [p[1] for p in pts])
    return series


def curves(train: Sequence[dict], val: Sequence[dict],
           metrics: str = DEFAULT_METRICS) -> Tuple[Series, Series, Series]:
    """The pure part: (losses, lr, metrics) series from the split log lines."""
    keys = list(dict.fromkeys(k for r in train for k in r))
    loss_keys = [k for k in keys if k.startswith('loss')]
    metric_keys = list(dict.fromkeys(
        k for r in val for k in r if k not in NOT_METRICS and re.search(metrics, k)))
    return collect(train, loss_keys), collect(train, ['lr']), collect(val, metric_keys)


def _plot(ax, series: Series, marker: str = '') -> None:
    for key, (x, y) in series.items():
        ax.plot(x, y, marker=marker, lw=2 if key == 'loss' else 1, label=key)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)


def save_plots(losses: Series, lr: Series, metrics: Series, val_x: str,
               title: str, out_dir: Path) -> List[Path]:
    """``losses.png`` (losses over lr) and, if any metric, ``metrics.png``."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    fig, (top, bottom) = plt.subplots(2, 1, figsize=FIGSIZE, dpi=DPI, sharex=True,
                                      gridspec_kw=dict(height_ratios=(3, 1)))
    _plot(top, losses)
    top.set_ylabel('loss')
    top.set_title(f'{title}: training losses')
    _plot(bottom, lr)
    bottom.set_xlabel('iteration')
    bottom.set_ylabel('lr')
    paths.append(out_dir / 'losses.png')
    fig.savefig(paths[-1], dpi=DPI)
    plt.close(fig)
    if metrics:
        fig, ax = plt.subplots(figsize=FIGSIZE, dpi=DPI)
        _plot(ax, metrics, marker='o')
        ax.set_xlabel(val_x)
        ax.set_ylabel('metric')
        ax.set_title(f'{title}: validation')
        paths.append(out_dir / 'metrics.png')
        fig.savefig(paths[-1], dpi=DPI)
        plt.close(fig)
    return paths


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('work_dir', help='work_dir of tools/train.py (or one '
                        '<timestamp> run directory in it)')
    parser.add_argument('--run', help='timestamp directory to plot (default: latest)')
    parser.add_argument('--metrics', default=DEFAULT_METRICS,
                        help=f'regex of the val metrics to plot (default: {DEFAULT_METRICS})')
    parser.add_argument('--out-dir', help='where the PNGs go (default: '
                        '<run dir>/plots)')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> List[Path]:
    args = parse_args(argv)
    work_dir = Path(args.work_dir)
    if not work_dir.is_dir():
        raise SystemExit(f'work_dir {work_dir} is not a directory')
    log = find_log(work_dir, args.run)
    train, val = read_scalars(log)
    losses, lr, metrics = curves(train, val, args.metrics)
    if not losses:
        raise SystemExit(f'{log} has no train lines with loss values')
    val_x = 'epoch' if any('epoch' in r for r in train) else 'iteration'
    run_dir = log.parent.parent
    out_dir = Path(args.out_dir) if args.out_dir else run_dir / 'plots'
    paths = save_plots(losses, lr, metrics, val_x, run_dir.name, out_dir)
    print(f'{log}: {len(train)} train / {len(val)} val lines')
    for path in paths:
        print(f'wrote {path}')
    if not metrics:
        print(f'no val metric matches {args.metrics!r}: no metrics.png')
    return paths


if __name__ == '__main__':
    main()
