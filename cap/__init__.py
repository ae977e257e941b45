"""cap: a corrective-action tracker for socially responsible public procurement."""

__version__ = "0.1.0"
