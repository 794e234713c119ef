"""Two-process DDP (torchrun, gloo on CPU) with default RKAN settings and
without ``find_unused_parameters``: both ranks finish with identical weights,
and the checkpoint holds both ranks' random states."""
import os
import signal
import socket
import subprocess
from pathlib import Path

import torch

from .conftest import DEMO, PYTHON, ROOT, demo_config, train_command

ITERS = 3  # DDP reports unused parameters at the 2nd iteration, so > 1


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def processes_mentioning(text: str) -> list:
    """PIDs whose command line contains ``text`` (our unique work dir)."""
    pids = []
    for pid in filter(str.isdigit, os.listdir('/proc')):
        try:
            if text in Path(f'/proc/{pid}/cmdline').read_bytes().decode(errors='replace'):
                pids.append(int(pid))
        except OSError:
            continue
    return pids


def test_two_process_ddp_ends_with_identical_weights(tiny_coco: Path, tmp_path: Path) -> None:
    dumps, work_dir = tmp_path / 'dumps', tmp_path / 'work'
    dumps.mkdir()
    config = tmp_path / 'ddp_demo.py'
    imports = [*demo_config().custom_imports.imports, 'tests.test_reliability.dump_state_hook']
    config.write_text(
        f'_base_ = {str(DEMO)!r}\n'
        f'custom_imports = dict(imports={imports!r}, allow_failed_imports=False)\n'
        f"custom_hooks = [dict(type='DumpParametersHook', out_dir={str(dumps)!r})]\n")
    argv = train_command(tiny_coco, work_dir, ITERS, ['--launcher', 'pytorch'],
                         extra=['env_cfg.dist_cfg.backend=gloo'], config=config)
    torchrun = [PYTHON, '-m', 'torch.distributed.run', '--nproc_per_node', '2',
                '--master_addr', '127.0.0.1', '--master_port', str(free_port()), *argv[1:]]
    env = {**os.environ, 'PYTHONPATH': str(ROOT), 'OMP_NUM_THREADS': '1'}
    proc = subprocess.Popen(torchrun, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        output, _ = proc.communicate(timeout=400)
    finally:  # never leave ranks behind, also on a timeout or a failed assert
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 0, output[-3000:]
    assert processes_mentioning(str(work_dir)) == []
    assert f'Iter(train) [{ITERS}/{ITERS}]' in output
    rank0, rank1 = (torch.load(dumps / f'rank{r}.pth') for r in (0, 1))
    assert rank0.keys() == rank1.keys() and any('rkan' in name for name in rank0)
    assert [name for name in rank0 if not torch.equal(rank0[name], rank1[name])] == []
    checkpoint = torch.load(work_dir / f'iter_{ITERS}.pth')
    assert all(torch.equal(checkpoint['state_dict'][name], rank0[name]) for name in rank0)
    ranks = checkpoint['rng_state']['ranks']  # gathered from both ranks for the resume
    assert len(ranks) == 2 and not torch.equal(ranks[0]['torch'], ranks[1]['torch'])
