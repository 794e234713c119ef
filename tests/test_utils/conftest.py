"""Fixtures shared by the checkpoint tests."""
import random
from typing import Iterator

import numpy as np
import pytest
import torch
from mmengine.logging import MessageHub, MMLogger
from mmengine.registry import DefaultScope
from mmengine.visualization import Visualizer


@pytest.fixture(scope='module')
def isolate_runner_globals() -> Iterator[None]:
    """Undo what Runners and inferencers leave behind (default scope,
    current logger/message hub/visualizer, global RNG seeds) for later test
    files."""
    managers = (DefaultScope, MessageHub, MMLogger, Visualizer)
    before = {cls: set(cls._instance_dict) for cls in managers}
    rng = (random.getstate(), np.random.get_state(), torch.get_rng_state())
    yield
    for cls in managers:
        for name in set(cls._instance_dict) - before[cls]:
            instance = cls._instance_dict.pop(name)
            for handler in getattr(instance, 'handlers', []):
                handler.close()
    random.setstate(rng[0])
    np.random.set_state(rng[1])
    torch.set_rng_state(rng[2])
