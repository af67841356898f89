"""``python -m mailcore``."""

from mailcore.cli import launch

launch()
