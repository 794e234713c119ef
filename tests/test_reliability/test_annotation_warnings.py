"""Finding 5 of issue 15, second half: annotations that mmdet drops one at a
time (malformed polygons, NaN and degenerate boxes) are counted and reported
in one ``warning:`` line per file, and training goes on (they are not errors:
COCO 2017 has a few)."""
import json
import math
import shutil
from pathlib import Path

import pytest
from mmengine.config import Config

from rkan_mmdet.data_checks.coco_annotations import exit_if_annotations_bad

from .conftest import DEMO, shrink

TRAIN_ANN = 'annotations/instances_train2017.json'


def test_dropped_annotations_are_counted_in_one_warning(
        tiny_coco: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    data = tmp_path / 'coco'
    shutil.copytree(tiny_coco, data)
    coco = json.loads((data / TRAIN_ANN).read_text())
    anns = coco['annotations']
    anns[0]['segmentation'] = [[1, 1, 5, 1]]  # 2 points
    anns[1]['segmentation'] = [[1, 1, 5, 1, 5, 5, 1]]  # odd count
    anns[1]['segmentation'].append([1, 1, 9, 1, 9, 9])  # a good one beside it
    anns[2]['bbox'][2] = math.nan
    anns[3]['bbox'][3] = 0.5
    anns[4]['bbox'][:2] = [70.0, 70.0]  # the image is 64 px
    (data / TRAIN_ANN).write_text(json.dumps(coco))  # NaN is written as JSON's NaN

    cfg = Config.fromfile(str(DEMO))
    cfg.merge_from_dict(dict(x.split('=', 1) for x in shrink(data, 1) if 'data_root' in x))
    exit_if_annotations_bad(cfg, ['train'])  # no SystemExit
    assert capsys.readouterr().err.splitlines() == [
        f'warning: {data}/{TRAIN_ANN}: mmdet ignores 2 polygons with fewer than 3 points or '
        'an odd number of coordinates, 1 boxes with a NaN or infinite value, 1 boxes under '
        '1 px wide or high or of area <= 0, 1 boxes outside their image']
