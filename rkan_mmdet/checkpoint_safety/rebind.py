"""Replace a function under every name imported modules gave it."""
from __future__ import annotations

import sys
from typing import Any, Iterable


def rebind(original: Any, replacement: Any, keep: Iterable[str] = ()) -> int:
    """Point every module attribute that *is* ``original`` at
    ``replacement``, in all modules imported so far but those named in
    ``keep``; returns how many names were changed.

    Patching only ``pkg.func`` misses ``from pkg import func`` done earlier:
    e.g. ``mmdet.apis.inference`` binds mmengine's ``load_checkpoint`` at
    import, ``torch`` binds ``torch.serialization.load`` as ``torch.load``.
    Modules imported later find ``replacement`` where they import it from.
    """
    keep = set(keep)
    changed = 0
    for module in list(sys.modules.values()):
        names = getattr(module, '__dict__', None)
        if not isinstance(names, dict) or names.get('__name__') in keep:
            continue
        for name, value in list(names.items()):
            if value is original:
                setattr(module, name, replacement)
                changed += 1
    return changed
