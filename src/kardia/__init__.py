"""Kardia: language models that reason toward understanding and empathy for emotional support."""

__version__ = "0.1.0"
