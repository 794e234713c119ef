"""Training-engine pieces that are not models.

Importing this package (done by ``import rkan_mmdet``) makes mmengine save
checkpoints atomically (:mod:`.atomic_checkpoint`) and registers
``Bf16OptimWrapper`` (CPU ``--amp``) and ``RNGStateHook`` (bit-exact resume);
:func:`prepare_cpu_distributed` lets ``--launcher pytorch`` run without GPUs.
"""
from .atomic_checkpoint import (atomic_save_checkpoint, atomic_write_bytes,
                                install_atomic_checkpoint_saving)
from .bf16_optim_wrapper import Bf16OptimWrapper
from .cpu_distributed import prepare_cpu_distributed
from .rng_state_hook import RNGStateHook

install_atomic_checkpoint_saving()

__all__ = ['Bf16OptimWrapper', 'RNGStateHook', 'atomic_save_checkpoint',
           'atomic_write_bytes', 'install_atomic_checkpoint_saving',
           'prepare_cpu_distributed']
