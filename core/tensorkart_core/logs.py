"""Logging set-up shared by every service: one line per record, service name first."""

from __future__ import annotations

import logging
import os
import sys


def setup_logging(service: str, level: str | None = None) -> logging.Logger:
    """Configure the root logger for a service process and return the service's logger."""
    level_name = (level or os.environ.get("TENSORKART_LOG_LEVEL", "INFO")).upper()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(f"%(asctime)s {service} %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level_name)
    return logging.getLogger(service)
