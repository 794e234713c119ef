"""Check image files before training reads them: one line for the first file
that is missing, empty, not an image, cut short, or of another size than its
annotation says.

Without it, mmcv's ``LoadImageFromFile`` meets a zero-byte file or a text
file named ``.jpg`` mid-epoch, inside a data-loader worker, and the run ends
in a traceback; a truncated JPEG decodes with a grey bottom and no error at
all; an image whose size differs from the annotation file's ``width`` /
``height`` gets boxes that do not fit it.

Each image costs an ``open``, a header parse (PIL reads the size, not the
pixels) and a read of its last KiB: a truncated JPEG has no end-of-image
marker ``FF D9`` there (inside JPEG data ``FF`` is always followed by ``00``
or a restart marker, so ``FF D9`` only ends an image; an EXIF thumbnail's
sits near the start of the file), a truncated PNG no ``IEND`` chunk. A
thread pool checks the files (COCO train2017: 118k opens and small reads).
"""
import os
import os.path as osp
from concurrent.futures import ThreadPoolExecutor
from typing import Iterable, Optional, Tuple

from PIL import Image, UnidentifiedImageError

TAIL = 1024
#: EXIF orientations that rotate by 90 degrees (decoders swap width and height).
TRANSPOSED = {5, 6, 7, 8}


def _cut_short(path: str, kind: Optional[str]) -> bool:
    if kind not in ('JPEG', 'PNG'):
        return False
    with open(path, 'rb') as file:
        file.seek(max(0, osp.getsize(path) - TAIL))
        tail = file.read()
    return (b'\xff\xd9' if kind == 'JPEG' else b'IEND') not in tail


def _orientation(image: Image.Image) -> int:
    """The EXIF orientation of a JPEG (1 when absent or unreadable: decoders
    ignore EXIF they cannot parse too)."""
    if image.format != 'JPEG':
        return 1
    try:
        return int(image.getexif().get(0x0112, 1))
    except (OSError, SyntaxError, ValueError, TypeError):
        return 1


def image_problem(path: str, width: object = None, height: object = None) -> str:
    """'' for a readable, complete image of ``width`` x ``height`` px (when
    given), else what is wrong with ``path``."""
    if not osp.isfile(path):
        return f'{path} does not exist' if not osp.exists(path) else f'{path} is not a file'
    if osp.getsize(path) == 0:
        return f'{path} is empty (0 bytes)'
    try:
        with Image.open(path) as image:
            kind, size = image.format, image.size
            orientation = _orientation(image)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        return f'{path} is not a readable image ({" ".join(str(e).split()) or type(e).__name__})'
    if _cut_short(path, kind):
        return f'{path} is truncated (the {kind} data has no end marker)'
    sizes = {size, size[::-1]} if orientation in TRANSPOSED else {size}
    if width is not None and height is not None and (width, height) not in sizes:
        return (f'{path} is {size[0]}x{size[1]} px, but its annotation says '
                f'{width}x{height}')
    return ''


def first_image_problem(images: Iterable[Tuple[str, object, object]],
                        workers: int = 8) -> Tuple[int, str]:
    """(index, problem) of the first of the ``(path, width, height)`` triples
    that :func:`image_problem` finds wrong, or (-1, '')."""
    with ThreadPoolExecutor(min(workers, (os.cpu_count() or 1) * 2)) as pool:
        for index, problem in enumerate(pool.map(lambda args: image_problem(*args), images)):
            if problem:
                return index, problem
    return -1, ''
