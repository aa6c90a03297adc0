"""Entry point of `python -m sandbox.simulator`."""

from __future__ import annotations

from sandbox.simulator.cli import main

raise SystemExit(main())
