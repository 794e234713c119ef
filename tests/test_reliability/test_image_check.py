"""The image checks of finding 5 on the cases the tool table does not reach:
PNG truncation, EXIF-rotated JPEGs, bytes after a JPEG's end marker."""
from pathlib import Path

import numpy as np
from PIL import Image

from rkan_mmdet.data_checks.image_files import image_problem


def save(path: Path, exif: Image.Exif = None) -> Path:
    pixels = np.random.RandomState(0).randint(0, 255, (30, 50, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path, **({'exif': exif} if exif else {}))
    return path


def test_truncated_png_is_found(tmp_path: Path) -> None:
    png = save(tmp_path / 'a.png')
    assert image_problem(str(png), 50, 30) == ''
    png.write_bytes(png.read_bytes()[:-20])
    assert image_problem(str(png), 50, 30) == (
        f'{png} is truncated (the PNG data has no end marker)')


def test_rotated_jpeg_may_swap_width_and_height(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees on display
    rotated, plain = save(tmp_path / 'r.jpg', exif), save(tmp_path / 'p.jpg')
    assert image_problem(str(rotated), 30, 50) == image_problem(str(rotated), 50, 30) == ''
    assert image_problem(str(plain), 30, 50) == (
        f'{plain} is 50x30 px, but its annotation says 30x50')


def test_bytes_after_the_jpeg_end_marker_are_no_truncation(tmp_path: Path) -> None:
    jpeg = save(tmp_path / 'a.jpg')
    jpeg.write_bytes(jpeg.read_bytes() + b'\0' * 100)
    assert image_problem(str(jpeg), 50, 30) == ''
    assert image_problem(str(tmp_path / 'b.jpg')) == f'{tmp_path}/b.jpg does not exist'
    assert image_problem(str(tmp_path)) == f'{tmp_path} is not a file'
