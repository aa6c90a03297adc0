"""Charts: small line charts drawn on the server as SVG (no chart library, nothing inline to run).

`line_chart` turns (instant, value) samples into the geometry `templates/_macros.html` (`chart`)
draws: a polyline, a dot per sample (with its value as a tooltip), three horizontal grid lines
with their values and the first and last dates. Time runs left to right at its real pace, so a
gap between readings shows as a gap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

WIDTH, HEIGHT = 480, 160
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 10, 22  # room for the value and date labels


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    title: str


@dataclass(frozen=True)
class Tick:
    at: float  # x for a date label, y for a value line
    text: str


@dataclass(frozen=True)
class LineChart:
    """What the `chart` macro draws; `label` describes it for screen readers."""

    label: str
    points: str
    dots: list[Dot]
    values: list[Tick]
    dates: list[Tick]
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right_edge: int = WIDTH - RIGHT


def nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 5 × 10^n at or above `value` (so the grid reads 0, half, top)."""
    top = 1
    while True:
        for step in (1, 2, 5):
            if step * top >= value:
                return step * top
        top *= 10


def line_chart(
    samples: Sequence[tuple[datetime, int]], *, name: str, zone: str = "UTC"
) -> LineChart | None:
    """The chart of `samples` (oldest first), or None when there is nothing to draw.

    Args:
        samples: (when it was read, the value) pairs.
        name: what is counted (`views`), for the labels.
        zone: the time zone the dates are shown in.
    """
    if not samples:
        return None
    tz = ZoneInfo(zone)
    first, last = samples[0][0], samples[-1][0]
    span = (last - first).total_seconds()
    top = nice_ceiling(max(max(value for _, value in samples), 1))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x_of(at: datetime) -> float:
        share = (at - first).total_seconds() / span if span else 0.5
        return round(LEFT + share * plot_w, 1)

    def y_of(value: int) -> float:
        return round(TOP + plot_h - value / top * plot_h, 1)

    dots = [
        Dot(x_of(at), y_of(value), f"{value:,} {name} on {at.astimezone(tz):%d %b %H:%M}")
        for at, value in samples
    ]
    dates = [Tick(x_of(first), f"{first.astimezone(tz):%d %b}")]
    if span:
        dates.append(Tick(x_of(last), f"{last.astimezone(tz):%d %b}"))
    latest = samples[-1][1]
    return LineChart(
        label=(
            f"{name.capitalize()} over time: {len(samples)} readings from "
            f"{first.astimezone(tz):%d %b %Y} to {last.astimezone(tz):%d %b %Y}, "
            f"latest {latest:,}."
        ),
        points=" ".join(f"{dot.x},{dot.y}" for dot in dots),
        dots=dots,
        values=[Tick(y_of(v), f"{v:,}") for v in sorted({0, top // 2, top})],
        dates=dates,
    )
