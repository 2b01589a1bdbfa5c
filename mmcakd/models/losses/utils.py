"""Checks shared by the loss modules: bad options fail when built."""
import math


def check_number(value, field: str, positive: bool = False) -> float:
    """``value`` as a float if it is a finite number >= 0 (> 0 when
    ``positive``); otherwise a one-line ValueError naming ``field``."""
    ok = (isinstance(value, (int, float)) and not isinstance(value, bool)
          and math.isfinite(value) and (value > 0 if positive else value >= 0))
    if not ok:
        bound = '> 0' if positive else '>= 0'
        raise ValueError(f'{field}={value!r} must be a number {bound}')
    return float(value)
