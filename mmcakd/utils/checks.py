"""Option checks: a bad method option fails when the model is built, in one
line that names the config field, instead of a torch or Python message."""
import inspect
import math
from typing import Optional, Sequence


def _is_number(value) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))


def check_number(value, field: str, positive: bool = False,
                 upper: Optional[float] = None) -> float:
    """``value`` as a float if it is a finite number >= 0 (> 0 when
    ``positive``; <= ``upper`` when given); otherwise a ValueError naming
    ``field``."""
    ok = _is_number(value) and (value > 0 if positive else value >= 0) \
        and (upper is None or value <= upper)
    if not ok:
        low = '> 0' if positive else '>= 0'
        bound = f'a number {low}' if upper is None else \
            f'a number in {"(" if positive else "["}0, {upper:g}]'
        raise ValueError(f'{field}={value!r} must be {bound}')
    return float(value)


def check_probability(value, field: str) -> float:
    """``value`` as a float in [0, 1]; otherwise a ValueError naming
    ``field``."""
    return check_number(value, field, upper=1.0)


def check_int(value, field: str, minimum: int = 1) -> int:
    """``value`` if it is an integer >= ``minimum``; otherwise a ValueError
    naming ``field``."""
    if isinstance(value, bool) or not isinstance(value, int) \
            or value < minimum:
        raise ValueError(f'{field}={value!r} must be an integer >= {minimum}')
    return value


def check_range(value, field: str, upper: Optional[float] = None
                ) -> Sequence[float]:
    """``value`` as a (low, high) pair of numbers with 0 < low <= high
    (<= ``upper`` when given); otherwise a ValueError naming ``field``."""
    ok = (isinstance(value, (tuple, list)) and len(value) == 2
          and all(_is_number(v) for v in value)
          and 0 < value[0] <= value[1]
          and (upper is None or value[1] <= upper))
    if not ok:
        top = '' if upper is None else f' <= {upper:g}'
        raise ValueError(f'{field}={value!r} must be a pair (low, high) with '
                         f'0 < low <= high{top}')
    return float(value[0]), float(value[1])


def check_options(cfg: dict, allowed: Sequence[str], field: str) -> None:
    """Refuse keys of ``cfg`` outside ``allowed``, naming ``field``."""
    unknown = sorted(set(cfg) - set(allowed))
    if unknown:
        raise ValueError(f'{field}: unknown option(s) {unknown}; expected '
                         f'{", ".join(allowed)}')


def check_class_options(cls: type, cfg: dict, field: str,
                        open_kwargs: bool = True) -> None:
    """Refuse keys of ``cfg`` (``type`` aside) that ``cls``'s constructor
    does not name, naming ``field`` and what it takes. With
    ``open_kwargs`` a constructor taking ``**kwargs`` takes anything;
    without, only its named parameters count (a subclass without an
    ``__init__`` of its own shows ``nn.Module``'s ``*args, **kwargs``)."""
    params = inspect.signature(cls).parameters.values()
    if open_kwargs and any(p.kind == p.VAR_KEYWORD for p in params):
        return
    known = sorted(p.name for p in params
                   if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD))
    unknown = sorted(set(cfg) - {'type'} - set(known))
    if unknown:
        raise ValueError(f'{field}: unknown option(s) {unknown}; '
                         f'{cls.__name__} takes {known}')
