"""RTMDet-tiny with RKAN on the last stage of its CSPNeXt backbone, mmdet's recipe."""
_base_ = 'mmdet::rtmdet/rtmdet_tiny_8xb32-300e_coco.py'
custom_imports = dict(imports=['rkan_mmdet'], allow_failed_imports=False)
model = dict(backbone=dict(_delete_=True, type='RKAN', backbone={{_base_.model.backbone}}))
