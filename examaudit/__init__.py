"""examaudit: audit exam centres for construction special-operations certificates."""

__version__ = "0.1.0"
