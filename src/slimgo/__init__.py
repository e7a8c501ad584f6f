"""slimgo: the smallest Go container images that still work, with the measurements to prove it."""

__version__ = "0.1.0"
