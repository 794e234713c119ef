"""Training-engine pieces that are not models.

Importing this package (done by ``import rkan_mmdet``) makes mmengine save
checkpoints atomically (:mod:`.atomic_checkpoint`) and registers, each under
its own name, ``KillSafeCheckpointHook`` (:mod:`.kill_safe_checkpoint_hook`;
mmengine's ``CheckpointHook`` is left as it is), ``Bf16OptimWrapper`` (CPU
``--amp``), ``RNGStateHook`` and ``resumable_worker_init_fn`` (bit-exact resume, see
:mod:`.rng_state_hook` and :mod:`.resumable_workers`);
:func:`prepare_cpu_distributed` lets ``--launcher pytorch`` run without GPUs.
"""
from .atomic_checkpoint import (atomic_save_checkpoint, atomic_write_bytes,
                                install_atomic_checkpoint_saving,
                                remove_interrupted_saves)
from .bf16_optim_wrapper import Bf16OptimWrapper
from .cpu_distributed import prepare_cpu_distributed
from .kill_safe_checkpoint_hook import (KillSafeCheckpointHook,
                                        use_kill_safe_checkpoint_hook)
from .resumable_workers import (make_epoch_workers_resumable,
                                resumable_worker_init_fn)
from .rng_state_hook import RNGStateHook, capture_rng_state, restore_rng_state

install_atomic_checkpoint_saving()

__all__ = ['Bf16OptimWrapper', 'KillSafeCheckpointHook', 'RNGStateHook',
           'atomic_save_checkpoint', 'atomic_write_bytes', 'capture_rng_state',
           'install_atomic_checkpoint_saving', 'make_epoch_workers_resumable',
           'prepare_cpu_distributed', 'remove_interrupted_saves',
           'resumable_worker_init_fn', 'restore_rng_state',
           'use_kill_safe_checkpoint_hook']
