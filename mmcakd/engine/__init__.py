"""Engine parts: the train loop, hooks and the distiller's optimizer
constructor."""
from .hooks import *  # noqa: F401,F403
from .optimizers import *  # noqa: F401,F403
from .runner import *  # noqa: F401,F403
from .atomic_file_backend import AtomicLocalBackend  # noqa: F401
