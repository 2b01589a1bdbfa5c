"""Models: distillers, projectors, losses."""
