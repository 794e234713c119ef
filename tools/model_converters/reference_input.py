"""Reading a checkpoint of the paper's code: weights-only, then split into trunk and RKAN modules.

:func:`load_state_dict` turns IN into a flat ``{str: Tensor}`` dict (through the
package's safe loading; a ``{'state_dict': ...}`` wrapper and a ``module.``
prefix on every key are accepted). :func:`split_layout` finds the family from
the first key with a known trunk prefix (docs/families.md §6) and reads every key
in file order: each must be a trunk key of that family
(:meth:`~.reference_trunks.Trunk.target`) or an RKAN module
(:meth:`~.reference_rkan.ReferenceRKAN.add`); the first that is neither is
named in the error.
"""
import os.path as osp
import pickle
import zipfile
from typing import Dict, Tuple

from torch import Tensor

import rkan_mmdet.checkpoint_safety as rkan_utils
from tools.model_converters.reference_rkan import ReferenceRKAN
from tools.model_converters.reference_trunks import TRUNKS, LayoutError, Trunk

#: Errors of the package's safe loading: one line each, naming the file.
CHECKPOINT_ERRORS = tuple(getattr(rkan_utils, name) for name in
                          ('CheckpointError', 'UnsafeCheckpointError') if hasattr(rkan_utils, name))
#: What torch.load raises for bytes that are no torch file (truncated, garbage).
LOAD_ERRORS = (pickle.UnpicklingError, EOFError, RuntimeError, ValueError, OSError,
               zipfile.BadZipFile)


def first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def load_state_dict(path: str) -> Dict[str, Tensor]:
    """IN, read weights-only, as a flat ``{str: Tensor}`` dict."""
    if not osp.isfile(path):
        raise LayoutError(f'{path}: {"a directory" if osp.isdir(path) else "no such file"}, '
                          'not a checkpoint')
    try:
        obj = rkan_utils.safe_torch_load(path, map_location='cpu')
    except CHECKPOINT_ERRORS as err:
        raise LayoutError(first_line(err)) from None
    except LOAD_ERRORS as err:
        raise LayoutError(f'{path} is not a readable torch file ({first_line(err)})') from None
    if isinstance(obj, dict) and isinstance(obj.get('state_dict'), dict):
        obj = obj['state_dict']
    if not isinstance(obj, dict) or not obj:
        raise LayoutError(f'{path} holds {"an empty dict" if obj == {} else type(obj).__name__}, '
                          'not a state dict')
    for key, value in obj.items():
        if not isinstance(key, str):
            raise LayoutError(f'{path}: key {key!r} ({type(key).__name__}) is not a str; '
                              'expected a state dict')
        if not isinstance(value, Tensor):
            raise LayoutError(f'{path}: key {key} holds a {type(value).__name__}, not a tensor; '
                              'expected a state dict')
    if all(key.startswith('module.') for key in obj):
        obj = {key[len('module.'):]: value for key, value in obj.items()}
    return obj


def split_layout(state: Dict[str, Tensor]) -> Tuple[Trunk, Dict[str, Tensor], Dict[str, str],
                                                     ReferenceRKAN]:
    """The trunk (its tensors under our keys, with their sources) and the RKAN modules.

    Keys are read in file order; the first one that fits neither ends it.
    """
    family = next((k.split('.', 1)[0] for k in state if k.split('.', 1)[0] in TRUNKS), None)
    if family is None:
        raise LayoutError(f'key {next(iter(state))} fits no layout of the paper\'s code: no key '
                          f'starts with {", ".join(p + "." for p in TRUNKS)}')
    trunk = TRUNKS[family]({k[len(family) + 1:]: v for k, v in state.items()
                            if k.startswith(family + '.')})
    mapped: Dict[str, Tensor] = {}
    sources: Dict[str, str] = {}
    ref = ReferenceRKAN()
    for key, tensor in state.items():
        head, _, rest = key.partition('.')
        target = trunk.target(rest) if head == family else None
        if target is not None:
            mapped[target], sources[target] = tensor, key
        elif not (head != family and ref.add(key, tensor)):
            what = (f'a torchvision {family} name' if head == family else
                    f'{family}.<torchvision name> or an RKAN module of docs/families.md §6')
            raise LayoutError(f'key {key} does not fit the {family} layout of the paper\'s code '
                              f'(expected {what})')
    if ref.num_stages == 0:
        raise LayoutError(f'no RKAN module in the file (conv_reduce.<i>.weight): a plain '
                          f'{family} state dict, not RKAN')
    if ref.num_stages != trunk.num_stages:
        raise LayoutError(f'the file has RKAN modules for {ref.num_stages} stages but its '
                          f'{family} trunk has {trunk.num_stages}')
    return trunk, mapped, sources, ref


