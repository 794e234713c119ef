"""Every mmengine checkpoint scheme loads weights-only, with one-line errors.

mmengine's ``CheckpointLoader`` picks a loader by the path's prefix. What
each one does after :func:`install_safe_schemes` (run by ``import
rkan_mmdet``):

=========================================  ==================================
prefix                                     loads with
=========================================  ==================================
local path (``''``)                        :func:`load_from_local_safe`
``file://`` (added: a local file URL)       :func:`load_from_file_url`
``http://``, ``https://``                  mmengine's loader, whose
``torchvision://``, ``modelzoo://``        ``load_url`` is replaced by
``mmcls://``, ``open-mmlab://`` (URL)      :func:`safe_load_url`
``open-mmlab://``/``openmmlab://`` (file)  mmengine's loader; its
``s3://``, ``petrel://``, ``pavi://``      ``torch.load(f, map_location)``
                                           is weights-only through
                                           :mod:`.torch_load_guard`
=========================================  ==================================

``torch.hub.load_state_dict_from_url`` unpickles *everything* unless told
``weights_only=True`` and extracts one-member zips into its cache, hence
:func:`safe_load_url`. Every registered loader
is also wrapped by :func:`naming_the_request` so that its errors name what
the user asked for (``s3://bucket/x.pth`` rather than an in-memory buffer,
``torchvision://resnet50`` rather than a bare download URL), and an unknown
model name or a missing ``open_mmlab.json`` file is one line too.
"""
from __future__ import annotations

import functools
import os
import os.path as osp
import urllib.error
from typing import Any, Callable, Optional
from urllib.parse import urlparse
from urllib.request import url2pathname

import torch
from mmengine.runner import checkpoint as mm_checkpoint
from mmengine.runner.checkpoint import CheckpointLoader
from mmengine.utils import dl_utils
from torch.hub import HASH_REGEX

from .checkpoint_diagnosis import bad
from .checkpoint_errors import (CheckpointError, CheckpointNotFoundError,
                                one_line)
from .safe_checkpoint import safe_torch_load

#: Schemes whose errors keep the resolved location next to the request
#: (it says where the name led); for s3/pavi it is a buffer or a temp file.
_SHOW_RESOLVED = ('torchvision://', 'modelzoo://', 'open-mmlab://',
                  'openmmlab://', 'mmcls://')


def load_from_local_safe(filename: str, map_location: Any = None) -> Any:
    """mmengine's local-file scheme (``prefixes=''``), weights-only."""
    return safe_torch_load(osp.expanduser(filename), map_location)


def load_from_file_url(filename: str, map_location: Any = None) -> Any:
    """``file:///abs/path.pth`` (not an mmengine scheme): the local file."""
    return safe_torch_load(url2pathname(urlparse(filename).path), map_location,
                           filename)


def safe_load_url(url: str,
                  model_dir: Optional[str] = None,
                  map_location: Any = None,
                  progress: bool = True,
                  check_hash: bool = False,
                  file_name: Optional[str] = None,
                  weights_only: bool = True) -> Any:
    """Drop-in for mmengine's ``load_url`` (``torch.hub``'s loader);
    ``weights_only`` is accepted and ignored.

    ``torch.hub.load_state_dict_from_url`` would unpickle everything, and a
    download that is a one-member zip (torch's "legacy zip format") is
    *extracted* into the cache under the member's name, whatever file that
    replaces. Here the file is downloaded (by ``torch.hub``'s
    ``download_url_to_file``: a temporary file in the cache folder, renamed
    when complete) to ``<model_dir>/<name>`` only, where ``name`` is
    ``file_name`` or the URL's last path part and must be a plain file name;
    it is then loaded weights-only, never extracted.

    Raises:
        CheckpointError: the URL names no file, the download failed, or the
            downloaded file is bad (one line naming ``url``).
    """
    name = file_name or osp.basename(urlparse(url).path)
    if not name:
        raise bad(url, 'names no file to download (the URL path ends in /)')
    if name in ('.', '..') or '/' in name or (osp.sep in name):
        raise bad(url, f'names no plain file to download ({name!r})')
    folder = model_dir or osp.join(torch.hub.get_dir(), 'checkpoints')
    cached = osp.join(folder, name)
    if not osp.exists(cached):
        os.makedirs(folder, exist_ok=True)
        found = HASH_REGEX.search(name) if check_hash else None
        try:
            torch.hub.download_url_to_file(url, cached,
                                           found.group(1) if found else None,
                                           progress=progress)
        except urllib.error.URLError as err:  # HTTPError is one too
            reason = one_line(getattr(err, 'reason', err), 160)
            if isinstance(err, urllib.error.HTTPError):
                reason = f'HTTP {err.code} {reason}'
            raise bad(url, f'could not be downloaded: {reason}') from None
        except RuntimeError as err:  # the hash check
            if 'hash' not in str(err):
                raise
            raise bad(url, f'could not be downloaded: {one_line(err, 200)}'
                      ) from None
    return safe_torch_load(cached, map_location, url)


def naming_the_request(loader: Callable) -> Callable:
    """``loader`` whose errors name the path the user gave it."""
    if getattr(loader, 'names_the_request', False):
        return loader

    @functools.wraps(loader)
    def load(filename: str, map_location: Any = None) -> Any:
        try:
            return loader(filename, map_location)
        except CheckpointError as err:
            if err.source in (None, filename):
                raise
            shown = (f'{filename} ({err.source})' if filename.startswith(
                _SHOW_RESOLVED) else filename)
            raise err.for_source(shown) from None
        except KeyError as err:  # the scheme's model table lacks the name
            if not (err.args and isinstance(err.args[0], str)
                    and err.args[0] and filename.endswith(err.args[0])):
                raise
            raise bad(filename, 'names a model that is not in the '
                      "scheme's model list") from None
        except FileNotFoundError as err:  # open-mmlab:// to a missing file
            if isinstance(err, CheckpointError):
                raise
            raise bad(filename, f'does not exist ({one_line(err, 200)})',
                      CheckpointNotFoundError) from None

    load.names_the_request = True
    return load


def install_safe_schemes() -> None:
    """Route mmengine's checkpoint schemes through the safe loaders;
    idempotent. Loaders registered later still go through
    :mod:`.torch_load_guard` when they call ``torch.load``."""
    CheckpointLoader.register_scheme(prefixes='',
                                     loader=load_from_local_safe,
                                     force=True)
    CheckpointLoader.register_scheme(prefixes='file://',
                                     loader=load_from_file_url,
                                     force=True)
    for module in (mm_checkpoint, dl_utils, dl_utils.hub):
        if getattr(module, 'load_url', None) is not None:
            module.load_url = safe_load_url
    for prefix, loader in list(CheckpointLoader._schemes.items()):
        CheckpointLoader.register_scheme(prefixes=prefix,
                                         loader=naming_the_request(loader),
                                         force=True)
