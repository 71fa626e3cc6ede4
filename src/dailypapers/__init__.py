"""dailypapers: the papers worth reading each day, curated by a research community."""

__version__ = "0.1.0"
