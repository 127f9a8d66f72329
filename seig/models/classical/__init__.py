"""The offline inverse-graphics backend (``--model classical``, the default)."""

from seig.models.classical.backend import ClassicalBackend

__all__ = ["ClassicalBackend"]
