"""Argument checks shared by the attention plugins: one line naming the value."""


def check_channels(module: str, in_channels: int, divisor: int = 1, reason: str = '') -> None:
    """Raise ValueError unless ``in_channels`` is a positive int divisible by ``divisor``."""
    if isinstance(in_channels, bool) or not isinstance(in_channels, int) or in_channels < 1:
        raise ValueError(f'{module}: in_channels must be a positive int, got {in_channels!r}')
    if in_channels % divisor:
        raise ValueError(f'{module}: in_channels={in_channels} is not divisible by '
                         f'{divisor}{reason}')


def check_odd_kernel(module: str, kernel_size: int) -> None:
    """Raise ValueError unless ``kernel_size`` is a positive odd int ('same' padding)."""
    if isinstance(kernel_size, bool) or not isinstance(kernel_size, int) \
            or kernel_size < 1 or kernel_size % 2 == 0:
        raise ValueError(f'{module}: kernel_size must be a positive odd int (same padding), '
                         f'got {kernel_size!r}')


def check_positive_int(module: str, name: str, value: int) -> None:
    """Raise ValueError unless ``value`` is a positive int."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f'{module}: {name} must be a positive int, got {value!r}')
