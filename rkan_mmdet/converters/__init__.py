"""Checkpoints of the RKAN paper's own code -> rkan_mmdet checkpoints (docs/converter.md).

:func:`convert_file` / :func:`convert_state_dict` with :class:`ConvertOptions`;
every input they refuse raises :class:`LayoutError` with one line.
``tools/model_converters/rkan_reference_to_mmdet.py`` runs :func:`main`, the command line.
"""
from .cli import KAN_TYPES, main
from .convert import Conversion, ConvertOptions, convert_file, convert_state_dict
from .errors import LayoutError

__all__ = ['Conversion', 'ConvertOptions', 'KAN_TYPES', 'LayoutError', 'convert_file',
           'convert_state_dict', 'main']
