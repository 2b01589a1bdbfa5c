"""Models: distillers, projectors, the discriminator, views and losses."""
from .discriminators import *  # noqa: F401,F403
from .distillers import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .projectors import *  # noqa: F401,F403
from .teachers import *  # noqa: F401,F403
from .views import *  # noqa: F401,F403
