"""The one error of the converter: the input is not what the paper's code saves."""


class LayoutError(ValueError):
    """The input does not have the layout of the paper's checkpoints, or a
    requested option does not fit it. The message is one line that names the
    key, file or option at fault; command lines print it as ``error: ...``."""
