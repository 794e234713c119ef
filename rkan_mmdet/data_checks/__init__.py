"""Checks of a config's data before the Runner reads it, each ending bad
input in one line:

* :mod:`.dataset_paths`: missing dataset files and folders;
* :mod:`.coco_annotations`: COCO annotation files mmdet would misread;
* :mod:`.image_files`: missing, empty, truncated or mis-sized images.

Not imported by ``import rkan_mmdet``.
"""
