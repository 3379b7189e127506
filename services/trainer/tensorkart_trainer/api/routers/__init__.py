"""REST routers, one per resource: datasets, jobs, models, dashboard."""
