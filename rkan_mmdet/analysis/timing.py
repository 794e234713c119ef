"""Timing and memory helpers shared by the benchmarks (:mod:`.benchmark`,
:mod:`.kan_conv_benchmark`) and :mod:`.profile_train_step`.

Ratios are only trustworthy when the compared models run interleaved in one
process (a noisy machine slows them alike), so :func:`time_interleaved`
alternates the steps. Peak memory is measured one variant per fresh child
process: on CPU as the growth of the process' peak RSS (``VmHWM``; Linux's
``ru_maxrss`` is useless here, it is inherited from the parent across exec),
on CUDA as the caching allocator's peak.

:func:`keep_freed_memory` sets glibc's allocator as ``tools/demo/run_demo.py``
does (``MALLOC_ENV``): by default glibc hands every freed block above its
dynamic mmap threshold back to the OS, so the next tensor of that size is
page-faulted in again and zeroed by the kernel. On small VMs that churn costs
more than some of the maths, and it taxes the model with more intermediate
tensors (measured here, RKAN-R50 / R50 forward: 1.075 with glibc's default,
1.047 with the setting; ResNet-50's own forward 727 -> 616 ms).
"""
import ctypes
import ctypes.util
import statistics
import subprocess
import sys
import time
from typing import Callable, Dict, List, Sequence

import torch

Step = Callable[[], None]


# glibc's mallopt parameters (malloc.h) and the values of run_demo.MALLOC_ENV;
# mallopt takes an int, so the trim threshold is capped at 2 GiB here.
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
MMAP_THRESHOLD, TRIM_THRESHOLD = 2**25, 2**31 - 1


def keep_freed_memory() -> bool:
    """Keep freed blocks below 32 MiB in the heap instead of returning them to
    the OS (glibc only); whether the setting took effect."""
    name = ctypes.util.find_library('c')
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError, TypeError):
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))


def synchronize(device: str) -> None:
    if device == 'cuda':
        torch.cuda.synchronize()


def time_interleaved(steps: Dict[str, Step], device: str, repeats: int, warmup: int,
                     label: str = '') -> Dict[str, List[float]]:
    """Seconds per call of each step, the steps alternating after ``warmup`` rounds."""
    for _ in range(warmup):
        for step in steps.values():
            step()
            synchronize(device)
    times: Dict[str, List[float]] = {name: [] for name in steps}
    for r in range(repeats):
        for name, step in steps.items():
            synchronize(device)
            t0 = time.perf_counter()
            step()
            synchronize(device)
            times[name].append(time.perf_counter() - t0)
        print(f'  [{label}] round {r + 1}/{repeats}', file=sys.stderr, flush=True)
    return times


def summary_ms(seconds: Sequence[float]) -> Dict[str, float]:
    ms = [s * 1e3 for s in seconds]
    return dict(median=statistics.median(ms), min=min(ms), max=max(ms))


def peak_memory_mb(step: Step, device: str) -> float:
    """Peak extra memory of one call of ``step``; call in a fresh process on CPU."""
    if device == 'cuda':
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        step()
        torch.cuda.synchronize()
        return (torch.cuda.max_memory_allocated() - base) / 2**20
    base = _status_kb('VmRSS')
    try:  # '5' resets the peak-RSS counter to the current RSS (Linux >= 4.0)
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
    except OSError:
        base = _status_kb('VmHWM')
    step()
    return (_status_kb('VmHWM') - base) / 1024


def _status_kb(field: str) -> int:
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1])
    raise RuntimeError(f'{field} not in /proc/self/status')


def memory_in_child(module: str, argv: List[str]) -> float:
    """Run ``python -m module argv`` (which prints one number last) and return that number."""
    out = subprocess.run([sys.executable, '-m', module] + argv, check=True,
                         capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1])
