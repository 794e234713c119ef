"""The embedded CPU demo behind ``tools/demo/*.py`` (``make demo``):

* :mod:`.coco_data`: the synthetic COCO-format shapes dataset;
* :mod:`.imagenet_data`: the synthetic ImageNet-format dataset of the
  classifier demo;
* :mod:`.run`: generate, train, test, AP, pictures, in one process.

Not imported by ``import rkan_mmdet``.
"""
