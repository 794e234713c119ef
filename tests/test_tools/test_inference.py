"""The inference recipe of docs/configs.md: mmdet's DetInferencer with an RKAN config and checkpoint."""
from pathlib import Path

import cv2
import numpy as np
import torch
from mmdet.apis import DetInferencer
from mmdet.registry import MODELS
from mmengine.config import Config
from mmengine.registry import init_default_scope

import rkan_mmdet  # noqa: F401  (registers the RKAN backbones)

from .. import ROOT

CONFIG = ROOT / 'configs' / 'demo' / 'mask_rcnn_rkanet18_demo.py'
CLASSES = ('circle', 'square', 'triangle', 'star')


def test_det_inferencer_runs_an_rkan_detector(tmp_path: Path) -> None:
    init_default_scope('mmdet')
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(str(CONFIG)).model)
    checkpoint = tmp_path / 'rkan.pth'
    torch.save({'state_dict': model.state_dict(),
                'meta': {'dataset_meta': {'classes': CLASSES}}}, checkpoint)
    image = tmp_path / 'image.jpg'
    cv2.imwrite(str(image), (np.random.RandomState(0).rand(96, 128, 3) * 255).astype(np.uint8))

    inferencer = DetInferencer(model=str(CONFIG), weights=str(checkpoint), device='cpu')
    result = inferencer(str(image), out_dir=str(tmp_path / 'out'), pred_score_thr=0.0)

    assert type(inferencer.model.backbone).__name__ == 'RKANResNet'
    assert inferencer.model.dataset_meta['classes'] == CLASSES
    torch.testing.assert_close(inferencer.model.backbone.rkan_layers.layer4.reduce.weight,
                               model.backbone.rkan_layers.layer4.reduce.weight)
    prediction = result['predictions'][0]
    assert len(prediction['labels']) == len(prediction['scores']) == len(prediction['bboxes'])
    assert set(prediction['labels']) <= set(range(len(CLASSES)))
    assert (tmp_path / 'out' / 'vis' / 'image.jpg').is_file()
