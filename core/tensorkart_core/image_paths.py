"""Compatibility name for the image-path rule, which lives in `tensorkart_core.datasets.paths`."""

from tensorkart_core.datasets.paths import resolve_image

__all__ = ["resolve_image"]
