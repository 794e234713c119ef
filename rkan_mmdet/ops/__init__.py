"""Exact, faster CPU paths of standard mmcv/mmdet ops.

``custom_imports=dict(imports=['rkan_mmdet.ops'])`` registers
``ThreadedSingleRoIExtractor``: mmdet's ``SingleRoIExtractor`` whose
``RoIAlign`` layers run their CPU forward and backward on all torch threads,
with results bitwise equal to mmcv's single-threaded op.
"""
from .roi_align import ThreadedRoIAlign, threaded_roi_align_available
from .roi_extractor import ThreadedSingleRoIExtractor

__all__ = ['ThreadedRoIAlign', 'ThreadedSingleRoIExtractor',
           'threaded_roi_align_available']
