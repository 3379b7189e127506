"""Entry point: `python -m tensorkart_trainer` serves the REST API with uvicorn until SIGTERM."""

from __future__ import annotations

import uvicorn

from tensorkart_core.logs import setup_logging
from tensorkart_core.settings import load_settings
from tensorkart_trainer.settings import TrainerSettings


def main() -> None:
    settings = load_settings(TrainerSettings)
    setup_logging("trainer", settings.log_level)
    uvicorn.run(
        "tensorkart_trainer.api.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        log_config=None,
        timeout_graceful_shutdown=5,
    )


if __name__ == "__main__":
    main()
