"""Planner: pick the index that narrows a filter to the fewest candidate documents.

Only conjunctive conditions are used (top-level fields and `$and`): equality, `$eq`, `$in` and
the range operators on keyable scalars. Everything else is left to mongomock's exact matcher,
which sees every candidate; a plan may over-select but never miss a document, because loose
documents of the chosen index are always candidates.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bson import ObjectId
from bson.regex import Regex

from sandbox.standin.indexes import TOP, Index, Key, scalar_key

_MAX_PREFIXES = 256  # cartesian products of $in lists beyond this are not worth planning


def _unfinished(key: Key) -> bool:
    raise RuntimeError("FieldBounds.admits needs finish() first.")


@dataclass(slots=True)
class FieldBounds:
    """What the conditions on one field allow: a set of points and/or one range."""

    points: set[Key] | None = None
    raw_points: list[Any] = field(default_factory=list)
    low: Key | None = None
    low_inclusive: bool = True
    high: Key | None = None
    high_inclusive: bool = True
    empty: bool = False
    # admits(key): True when a (non-loose) key satisfies every condition these bounds came
    # from. `finish()` sets it to a comparison specialized for these bounds (a hot loop).
    admits: Callable[[Key], bool] = field(default=_unfinished, repr=False, compare=False)

    @property
    def has_range(self) -> bool:
        return self.low is not None or self.high is not None

    def add_points(self, keys: list[Key], raw: list[Any]) -> None:
        if self.points is None:
            self.points = set(keys)
            self.raw_points = list(raw)
        else:
            self.points &= set(keys)
            self.raw_points = [value for value in raw if scalar_key(value) in self.points]

    def add_low(self, key: Key, inclusive: bool) -> None:
        if self.low is None or key > self.low or (key == self.low and not inclusive):
            self.low, self.low_inclusive = key, inclusive

    def add_high(self, key: Key, inclusive: bool) -> None:
        if self.high is None or key < self.high or (key == self.high and not inclusive):
            self.high, self.high_inclusive = key, inclusive

    def finish(self) -> None:
        """Type bracketing: a range only holds values of its bound's type."""
        if self.low is not None and self.high is not None and self.low[0] != self.high[0]:
            self.empty = True
        if self.points is not None and self.has_range:
            self.points = {key for key in self.points if self._in_range(key)}
        if self.points is not None and not self.points:
            self.empty = True
        self.admits = self._admitter()

    def _admitter(self) -> Callable[[Key], bool]:
        if self.points is not None:
            return self.points.__contains__
        if self.empty or (self.low is None and self.high is None):
            return lambda key: not self.empty
        rank = (self.low or self.high or (0,))[0]
        # Missing bounds become the edges of the rank: (rank,) sorts before every key of that
        # rank and (rank, TOP) after, so one chained comparison also checks the type.
        low, high = self.low or (rank,), self.high or (rank, TOP)
        low_inclusive = self.low_inclusive or self.low is None
        high_inclusive = self.high_inclusive and self.high is not None
        if low_inclusive and high_inclusive:
            return lambda key: low <= key <= high
        if low_inclusive:
            return lambda key: low <= key < high
        if high_inclusive:
            return lambda key: low < key <= high
        return lambda key: low < key < high

    def _in_range(self, key: Key) -> bool:
        rank = (self.low or self.high or key)[0]
        if key[0] != rank:
            return False
        if self.low is not None and (
            key < self.low or (key == self.low and not self.low_inclusive)
        ):
            return False
        return not (
            self.high is not None
            and (key > self.high or (key == self.high and not self.high_inclusive))
        )


@dataclass(slots=True)
class Plan:
    """How to find candidates: by `_id` values, by index ranges, or by scanning everything."""

    kind: str  # "ids" | "index" | "scan" | "empty"
    index: Index | None = None
    ranges: list[range] = field(default_factory=list)
    id_values: list[Any] = field(default_factory=list)
    direction: int = 0  # +1/-1 when the index yields documents in the requested sort order
    sort_start: int = 0  # where the sort fields start inside an entry
    sort_width: int = 0
    count: int = 0
    fields: tuple[str, ...] = ()  # the query fields the index ranges decide (prefix order)
    covered: int = 0  # how many filtered fields the index holds (decided or not)


def conditions(query: Mapping[str, Any]) -> dict[str, FieldBounds]:
    """The usable bounds per field of a filter's conjunctive conditions."""
    bounds: dict[str, FieldBounds] = {}
    _collect(query, bounds)
    for value in bounds.values():
        value.finish()
    return bounds


def _collect(query: Mapping[str, Any], bounds: dict[str, FieldBounds]) -> None:
    for name, condition in query.items():
        if name == "$and" and isinstance(condition, list):
            for clause in condition:
                if isinstance(clause, Mapping):
                    _collect(clause, bounds)
        elif not name.startswith("$"):
            _condition(name, condition, bounds)


def _condition(name: str, condition: Any, bounds: dict[str, FieldBounds]) -> None:
    if isinstance(condition, Mapping) and condition and all(k.startswith("$") for k in condition):
        for operator, argument in condition.items():
            _operator(name, operator, argument, bounds)
        return
    key = _usable_key(condition)
    if key is not None:
        bounds.setdefault(name, FieldBounds()).add_points([key], [condition])


def _operator(name: str, operator: str, argument: Any, bounds: dict[str, FieldBounds]) -> None:
    if operator == "$eq":
        key = _usable_key(argument)
        if key is not None:
            bounds.setdefault(name, FieldBounds()).add_points([key], [argument])
    elif operator == "$in" and isinstance(argument, list):
        keys = [_usable_key(value) for value in argument]
        if all(key is not None for key in keys):
            usable = [key for key in keys if key is not None]
            bounds.setdefault(name, FieldBounds()).add_points(usable, list(argument))
    elif operator in ("$gt", "$gte", "$lt", "$lte"):
        key = _usable_key(argument)
        if key is None:
            return
        target = bounds.setdefault(name, FieldBounds())
        if operator.startswith("$gt"):
            target.add_low(key, operator == "$gte")
        else:
            target.add_high(key, operator == "$lte")


def _dict_lookup_ok(value: Any) -> bool:
    """True when Python's dict lookup of this `_id` agrees with BSON equality."""
    if value is None or isinstance(value, str | ObjectId | datetime | bytes):
        return True
    return isinstance(value, int | float) and value == value  # not NaN


def _usable_key(value: Any) -> Key | None:
    if isinstance(value, dict | list | re.Pattern | Regex):
        return None
    return scalar_key(value)


def by_id_alone(query: Mapping[str, Any]) -> bool:
    """True for `{_id: value}` where a dictionary lookup finds exactly the matching document."""
    return len(query) == 1 and _dict_lookup_ok(query.get("_id", []))


def plan(
    indexes: Mapping[str, Index],
    query: Mapping[str, Any],
    sort: list[tuple[str, int]],
    bounds: Mapping[str, FieldBounds] | None = None,
) -> Plan:
    """The cheapest way to reach every document that may match `query`.

    `bounds` are `conditions(query)` when the caller already has them (a compiled filter).
    """
    if by_id_alone(query):
        return Plan("ids", id_values=[query["_id"]], count=1)  # the hot path: by _id
    if bounds is None:
        bounds = conditions(query)
    if any(value.empty for value in bounds.values()):
        return Plan("empty")
    id_bounds = bounds.get("_id")
    if id_bounds is not None and id_bounds.points is not None:
        if all(_dict_lookup_ok(value) for value in id_bounds.raw_points):
            return Plan("ids", id_values=id_bounds.raw_points, count=len(id_bounds.raw_points))
    best: Plan | None = None
    for index in indexes.values():
        if not index.plannable:
            continue
        candidate = _index_plan(index, bounds, sort)
        if candidate is None:
            continue
        if best is None or _preference(candidate) < _preference(best):
            best = candidate
    return best or Plan("scan")


def _preference(candidate: Plan) -> tuple[int, bool, int]:
    """Fewest candidates; on a tie, the index yielding the sort order, then the one whose keys
    hold the most filtered fields (the search reads those from the entries, not documents)."""
    return (candidate.count, not candidate.direction, -candidate.covered)


def _index_plan(
    index: Index, bounds: Mapping[str, FieldBounds], sort: list[tuple[str, int]]
) -> Plan | None:
    prefixes: list[Key] = [()]
    equal_fields: list[str] = []
    range_bounds: FieldBounds | None = None
    for name, _ in index.spec.keys:
        found = bounds.get(name)
        if found is None:
            break
        if found.points is not None:
            if len(prefixes) * len(found.points) > _MAX_PREFIXES:
                break
            points = sorted(found.points)
            prefixes = [(*prefix, point) for prefix in prefixes for point in points]
            equal_fields.append(name)
            continue
        range_bounds = found
        break
    if not equal_fields and range_bounds is None:
        return None
    ranges = [_range(index, prefix, range_bounds) for prefix in prefixes]
    used = index.spec.keys[: len(equal_fields) + (range_bounds is not None)]
    result = Plan("index", index=index, ranges=ranges, fields=tuple(name for name, _ in used))
    result.covered = sum(1 for name, _ in index.spec.keys if name in bounds)
    result.count = sum(len(positions) for positions in ranges) + len(index.loose)
    if len(prefixes) == 1 and not index.loose:
        _order(result, index, equal_fields, sort)
    return result


def _range(index: Index, prefix: Key, bounds: FieldBounds | None) -> range:
    if bounds is None:
        return index.scan(prefix, True, prefix, True)
    rank = (bounds.low or bounds.high or (0,))[0]
    low, low_inclusive = (
        ((*prefix, bounds.low), bounds.low_inclusive)
        if bounds.low is not None
        else ((*prefix, (rank,)), True)
    )
    high, high_inclusive = (
        ((*prefix, bounds.high), bounds.high_inclusive)
        if bounds.high is not None
        else ((*prefix, (rank, TOP)), False)
    )
    return index.scan(low, low_inclusive, high, high_inclusive)


def _order(
    result: Plan, index: Index, equal_fields: list[str], sort: list[tuple[str, int]]
) -> None:
    """Mark the plan as ordered when the index already yields the requested sort order."""
    # Sorting on a field pinned by equality changes nothing, so those sort fields are dropped.
    remaining = [(name, direction) for name, direction in sort if name not in equal_fields]
    if not remaining:
        return
    start = len(equal_fields)
    index_fields = [name for name, _ in index.spec.keys[start : start + len(remaining)]]
    directions = {direction for _, direction in remaining}
    if index_fields != [name for name, _ in remaining] or len(directions) != 1:
        return
    result.direction = directions.pop()  # entries are stored ascending whatever the declaration
    result.sort_start = start
    result.sort_width = len(remaining)
