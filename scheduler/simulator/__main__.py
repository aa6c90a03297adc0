"""Entry point of `python -m scheduler.simulator`."""

from __future__ import annotations

from scheduler.simulator.cli import main

raise SystemExit(main())
