"""ELA-L-50 baseline: RKAN-ELA-L-50 without RKAN (mmdet's ResNet-50 + ELA-L), same recipe.

26.43M parameters; 26.40M by the paper's profiler count, which skips ELA's
GroupNorms (rkan_mmdet/analysis/param_count.py).
"""
_base_ = ['./rkan-ela-l50_8xb32_in1k.py']
model = dict(
    backbone=dict(
        _delete_=True, type='mmdet.ResNet', depth=50, out_indices=(3, ),
        norm_eval=False, style='pytorch', plugins=_base_.ela_plugins))
