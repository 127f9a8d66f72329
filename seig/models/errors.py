"""What can go wrong with a model, as exceptions the CLI and UI print in one line.

``ModelConfigError`` means the user must change something (a key, a model
name); ``ProviderError`` means the service failed even after retries;
``ModelAnswerError`` means the model kept answering with something unusable.
"""

from __future__ import annotations


class ModelError(RuntimeError):
    """Base of every model failure; its message is meant to be shown as is."""


class ModelConfigError(ModelError):
    """The model is misconfigured: unknown spec, missing or rejected key, unknown model."""


class ProviderError(ModelError):
    """The provider failed (rate limit, server error, timeout, network) after all retries."""


class ModelAnswerError(ModelError):
    """The model's answers stayed unusable after the repair turns."""
