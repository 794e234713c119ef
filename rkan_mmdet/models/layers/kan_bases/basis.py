r"""The interface of a KAN basis: the pointwise features one KAN type expands a value into.

Every KAN type of docs/spec.md §2 writes its per-tap function as a linear
combination of a few pointwise features of the input value ``u``:

.. math::  f_k(u) = a_k u + \sum_f c_{k,f}\, \psi_f(u)  \quad (+\, b)

:class:`~rkan_mmdet.models.layers.KANConv2d` owns the base term ``a_k u``; a
basis here supplies everything else:

* :meth:`KANBasis.init_parameters` registers the basis' parameters (public
  names: they are the checkpoint format) and fixed buffers on the conv;
* :meth:`KANBasis.features` returns ``phi_f(u) = psi_f(u) - psi_f(0)``, each
  of the shape of ``u``. Shifting by the value at 0 makes ``phi_f(0) = 0`` so
  ordinary zero padding of the conv equals zero padding in input space;
* :meth:`KANBasis.coefficients` returns ``c`` as ``(NF, 9)``;
* :meth:`KANBasis.tap_constants` returns what the shift moved out of each
  tap, ``sum_f c_{k,f} psi_f(0)``, as ``(9,)``;
* :meth:`KANBasis.output_bias` is a bias added once to the output (rbf's
  ``b``; 0 for the other types);
* :meth:`KANBasis.feature_parameters` lists the parameters the features
  themselves read (only rational's); the rest enter through the kernel;
* :meth:`KANBasis.features_vjp` gives the features with their backward, for
  the KAN conv's hand-written backward (autograd by default, closed form for
  the polynomial powers).

Parameter-side maths uses broadcast products, not matmul, so that mmengine's
FLOP counter sees only the conv's own work (see ``KANConv2d.flops``).

A basis is a stateless strategy object; parameters live on the conv so that
their names are flat (``poly_weight``, not ``basis.poly_weight``).
"""
from typing import Callable, List, Optional, Tuple

import torch
from torch import Tensor, nn

TAPS = 9  # 3x3 kernel, tap k = 3 * di + dj (torch.nn.Unfold order)
FeaturesVJP = Callable[[List[Tensor]], Tuple[Optional[Tensor], ...]]


class KANBasis:
    """Interface of a KAN basis; see the module docstring."""

    num_features: int  # NF: number of non-constant features phi_f

    def init_parameters(self, conv: nn.Module) -> None:
        raise NotImplementedError

    def features(self, conv: nn.Module, u: Tensor) -> List[Tensor]:
        raise NotImplementedError

    def coefficients(self, conv: nn.Module) -> Tensor:
        raise NotImplementedError

    def tap_constants(self, conv: nn.Module) -> Tensor:
        raise NotImplementedError

    def output_bias(self, conv: nn.Module) -> Tensor:
        return conv.base_weight.new_zeros(())

    def feature_parameters(self, conv: nn.Module) -> List[Tensor]:
        """Parameters that :meth:`features` reads (so gradients reach them)."""
        return []

    def features_vjp(self, conv: nn.Module, u: Tensor,
                     need_u: bool) -> Tuple[List[Tensor], FeaturesVJP]:
        """:meth:`features` of ``u`` (detached) and their vector-Jacobian product.

        ``vjp(grads)`` takes one gradient per feature (each of ``u``'s shape)
        and returns ``(grad_u or None, *grads of the feature parameters that
        require grad)``. This default records :meth:`features` under autograd;
        a basis with a closed-form derivative overrides it.
        """
        params = [p for p in self.feature_parameters(conv) if p.requires_grad]
        with torch.enable_grad():
            u = u.detach().requires_grad_(need_u)
            feats = self.features(conv, u)

        def vjp(grads: List[Tensor]) -> Tuple[Optional[Tensor], ...]:
            wrt = ([u] if need_u else []) + params
            out = torch.autograd.grad(feats, wrt, grads, allow_unused=True)
            return (out[0], *out[1:]) if need_u else (None, *out)

        return [f.detach() for f in feats], vjp


def check_min(name: str, value: int, minimum: int) -> None:
    """One ``ValueError`` line unless ``value`` is an int >= ``minimum``."""
    if not isinstance(value, int) or value < minimum:
        raise ValueError(f'{name} must be an int >= {minimum}, got {value!r}')
