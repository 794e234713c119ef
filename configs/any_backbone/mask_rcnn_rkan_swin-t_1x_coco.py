"""Mask R-CNN, Swin-T with RKAN on stage 2 (the paper's RKAN_Swin default), mmdet's 1x recipe.

The Swin-T backbone of mmdet's config, unchanged (its ImageNet init included),
inside the generic ``RKAN`` form: the block runs from the tokens entering stage 2
to those leaving its last block, before the patch merging (docs/any_backbone.md).
"""
_base_ = 'mmdet::swin/mask-rcnn_swin-t-p4-w7_fpn_1x_coco.py'
custom_imports = dict(imports=['rkan_mmdet'], allow_failed_imports=False)
model = dict(backbone=dict(_delete_=True, type='RKAN', backbone={{_base_.model.backbone}},
                           rkan_mechanisms={1: 'addition'}))
