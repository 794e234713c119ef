"""KAN layers: pointwise bases -> KANConv2d -> RKAN block."""
from .kan_bases import KAN_TYPES, KANBasis, build_basis, check_kan_type
from .kan_conv import KANConv2d

__all__ = ['KAN_TYPES', 'KANBasis', 'build_basis', 'check_kan_type', 'KANConv2d']
