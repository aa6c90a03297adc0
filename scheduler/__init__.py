"""The scheduler core, one sub-package per concern.

`platform` (settings, clock, errors, events, database and documents, logs, queue names),
`accounts`, `posts` (with `recurrence`), `publishing` (the engine and the publisher), `ops`,
`threads` (the Graph API client) and `bulk` (import and export); `services` wires them and `cli`
runs them. docs/DESIGN.md §11 has the map.
"""
