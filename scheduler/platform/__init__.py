"""Platform: what every concern stands on.

Settings, the clock, errors, events, the database and its documents, logging. Nothing here knows
about scheduling, publishing or the web.
"""
