"""The trainer's FastAPI application: routers, dependencies, app factory."""
