"""What the file cannot tell: each choice made for it, said once (docs/converter.md).

A checkpoint of the paper's code records tensors, not the arguments that
built them. Where a wrong guess changes the function the converter either
asks (an option) or says what it assumed, once, in a line that names the
option that overrides it; :class:`Notes` collects those lines for the caller
and for the checkpoint's ``meta``.

* **Stages.** A stage whose ``kan_bn`` / ``kan_expand_bn`` tracked no batch
  (statistics still 0 / 1) never ran: the paper's code builds every stage's
  modules but trains only the enabled ones. Converting such a block would turn
  random weights into an active part of the model, so ``--stages`` naming one
  is refused unless ``enable_untrained`` is set, which is then said.
* **KAN type.** The file tells rbf and b_spline apart from the polynomials,
  not one polynomial from another: chebyshev is assumed.
* **Mechanism.** Addition, gating and SE leave the same keys: addition (the
  paper's default) is assumed.
* **Attention without parameters.** SimAM has no tensors, so a SimAM model's
  file is a plain ResNet's: no attention is assumed.
"""
from typing import Callable, List, Optional, Sequence, Tuple

from .errors import LayoutError

Say = Callable[[str], None]


class Notes:
    """The lines of one conversion: facts (``say``) and assumptions (``assume``, once each)."""

    def __init__(self, say: Say) -> None:
        self.say = say
        self.assumptions: List[str] = []

    def assume(self, text: str) -> None:
        if text not in self.assumptions:
            self.assumptions.append(text)
            self.say(f'assumed: {text}')


def choose_stages(evidence: Sequence[Tuple[bool, str]], requested: Optional[Sequence[int]],
                  enable_untrained: bool, notes: Notes) -> List[int]:
    """0-based stages to convert: ``requested`` (1-based) or those that ran.

    ``evidence[i]`` is (ran, facts) of stage i. Naming a stage that never ran
    is refused unless ``enable_untrained``.
    """
    ran = [i for i, (did, _) in enumerate(evidence) if did]
    for i, (did, facts) in enumerate(evidence):
        notes.say(f'stage {i + 1}: {"ran" if did else "never ran"} in training ({facts})')
    shown = ' '.join(str(i + 1) for i in ran) or 'none'
    if not requested:
        if not ran:
            raise LayoutError('no RKAN stage ran in training (every kan_bn / kan_expand_bn '
                              'tracked 0 batches); name the enabled ones with --stages')
        notes.say(f'stages: {shown} (from the BN evidence; --stages to override)')
        return ran
    bad = [s for s in requested if not 1 <= s <= len(evidence)]
    if bad or len(set(requested)) != len(requested):
        raise LayoutError(f'--stages {" ".join(map(str, requested))}: expected distinct '
                          f'stages in 1..{len(evidence)}')
    chosen = sorted(s - 1 for s in requested)
    untrained = [i for i in chosen if not evidence[i][0]]
    if untrained and not enable_untrained:
        i = untrained[0]
        raise LayoutError(f'--stages names stage {i + 1}, which never ran in training '
                          f'({evidence[i][1]}): its block would add random weights with '
                          '0/1 statistics to the model; pass --enable-untrained to convert '
                          'it anyway')
    for i in untrained:
        notes.say(f'stage {i + 1}: enabled though it never trained (--enable-untrained): its '
                  'block keeps its random init and BN statistics 0/1')
    notes.say(f'stages: {" ".join(str(i + 1) for i in chosen)} (--stages; the BN evidence '
              f'says {shown})')
    return chosen


def choose_kan_type(layout: str, requested: Optional[str], notes: Notes) -> str:
    """The KAN type: ``requested``, or the layout's own (rbf, b_spline), or chebyshev."""
    if requested:
        notes.say(f'kan type: {requested} (--kan-type)')
        return requested
    if layout != 'polynomial':
        notes.say(f'kan type: {layout} (from the file)')
        return layout
    notes.assume('kan type chebyshev: the file does not say which polynomial '
                 '(--kan-type legendre|jacobi|hermite otherwise)')
    return 'chebyshev'


def choose_mechanism(requested: Optional[str], notes: Notes) -> str:
    if requested:
        notes.say(f'mechanism: {requested} (--mechanism)')
        return requested
    notes.assume('mechanism addition, the paper\'s default: the file does not record it '
                 '(--mechanism gating|se otherwise)')
    return 'addition'


def choose_attention(found: Optional[str], requested: Optional[str],
                     parameter_free: Sequence[str], notes: Notes) -> Optional[str]:
    """The attention inside the blocks: what the keys show, or, where they show
    none, ``requested`` (one of ``parameter_free``, or ``none``)."""
    if found is not None:
        if requested not in (None, found):
            raise LayoutError(f'--attention {requested}, but the file\'s blocks hold {found} '
                              'attention tensors')
        notes.say(f'attention: {found} (from the file)')
        return found
    if requested in (None, 'none'):
        if requested is None:
            notes.assume('no attention in the blocks: the file cannot show attention '
                         f'without tensors ({", ".join(parameter_free)}; --attention '
                         f'{"|".join(parameter_free)} otherwise)')
        return None
    if requested not in parameter_free:
        raise LayoutError(f'--attention {requested}: the file\'s blocks hold no {requested} '
                          f'tensors (only {", ".join(parameter_free)} has none)')
    notes.say(f'attention: {requested} (--attention; it has no tensors)')
    return requested
