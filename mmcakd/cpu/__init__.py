"""Device tuning, outside the method: what ``model.accel`` asks for.

The core (``mmcakd.models``) imports this package only when a config sets
``model.accel``; it may import the core, never the other way. Every piece
computes the same function as the plain torch expression up to rounding,
and what each is worth is measured by ``tools/cpu_bench/`` (docs/step_cost.md).
"""
from .acceleration import Acceleration
from .memory import keep_freed_memory, keep_freed_memory_if_asked

__all__ = [
    'Acceleration', 'keep_freed_memory',
    'keep_freed_memory_if_asked'
]
