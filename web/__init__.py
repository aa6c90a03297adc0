"""The Starlette app and the HTMX dashboard: a thin interface over the scheduler core."""
