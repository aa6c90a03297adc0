"""Filters: decide simple conditions on a document without mongomock's matcher.

mongomock's `filter_applies` costs about ten microseconds a document, which is what made list
queries over thousands of candidates slow. Most filters the project sends are conjunctions of
equality, `$eq`, `$in`, range operators and `$regex` on fields. `compile_filter` turns such a
filter into a `Filter` whose `decide` answers in about a microsecond, with mongomock's answer:

- only top-level fields and `$and` clauses compile; `$or`, `$not`, `$exists`, `$comment`,
  array operators... leave the filter to mongomock entirely (None);
- operands must be strings, numbers (not Decimal128), ObjectIds, booleans, naive datetimes or
  (for equality only) null, and a `$regex` a valid string pattern;
- `decide` returns None ("ask mongomock") for a document whose value is an array or of any
  other type (Decimal128, binary, regexes, timestamps, ...), so it never guesses.

One deliberate difference: a boolean never equals a number here (`{a: 1}` does not match
`{a: true}`), as in MongoDB and in the stand-in's indexes, whereas mongomock uses Python's
`True == 1`. Indexed and unindexed queries therefore agree with each other and with MongoDB.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from bson import Int64, ObjectId

from sandbox.standin.indexes import NULL_KEY, Key, scalar_key
from sandbox.standin.planner import FieldBounds

_MISSING: Final = object()
_NOWHERE: Final = object()  # mongomock finds no candidate value: positive conditions fail
# Values whose index key decides every supported condition as mongomock does (booleans as
# MongoDB does, see above).
_DECIDED_TYPES: Final = frozenset({str, int, float, bool, Int64, datetime, ObjectId, type(None)})
_RANGE_OPERATORS: Final = frozenset({"$gt", "$gte", "$lt", "$lte"})
_REGEX_FLAGS: Final = {"i": re.IGNORECASE, "m": re.MULTILINE, "x": re.VERBOSE, "s": re.DOTALL}


@dataclass(slots=True)
class FieldTest:
    """The conditions on one field: bounds (equality, `$in`, ranges) and regexes."""

    name: str
    parts: tuple[str, ...]
    bounds: FieldBounds | None = None
    patterns: list[re.Pattern[str]] = field(default_factory=list)

    def decide(self, document: Mapping[str, Any]) -> bool | None:
        """Whether `document` satisfies this field's conditions; None when mongomock must say."""
        value = _reach(document, self.parts)
        if value is _MISSING:
            # mongomock: equality with null matches a missing field; ranges and $regex do not.
            bounds = self.bounds
            return not self.patterns and bounds is not None and bounds.admits(NULL_KEY)
        kind = type(value)
        if kind is list:
            return None  # array paths reach several values
        if kind is dict or value is _NOWHERE:
            return False  # no scalar operand equals or compares to a document (or nothing)
        if kind not in _DECIDED_TYPES:
            return None
        if self.bounds is not None:
            key = scalar_key(value)
            if key is None:
                return None  # NaN
            if not self.bounds.admits(key):
                return False
        if self.patterns:
            if kind is not str:
                return False
            for pattern in self.patterns:
                if pattern.search(value) is None:
                    return False
        return True


def _reach(document: Mapping[str, Any], parts: tuple[str, ...]) -> Any:
    """The value at a path: _MISSING, _NOWHERE (it crosses a scalar) or a list it crosses."""
    value: Any = document
    for part in parts:
        if type(value) is dict:
            value = value.get(part, _MISSING)
        elif value is _MISSING or type(value) is list:
            return value
        else:
            return _NOWHERE
    return value


@dataclass(frozen=True, slots=True)
class Filter:
    """A compiled filter: one test per field, in the order the filter names them."""

    fields: tuple[FieldTest, ...]

    def decide(self, document: Mapping[str, Any]) -> bool | None:
        """True/False as mongomock would answer; None when only mongomock can tell.

        Fields are checked in the filter's order and the first undecided one hands the whole
        document to mongomock, which then walks the same (already true) fields first.
        """
        for test in self.fields:
            decided = test.decide(document)
            if decided is not True:
                return decided
        return True

    def bounds(self) -> dict[str, FieldBounds]:
        """The bounds per field, as the planner's `conditions` would find them."""
        return {test.name: test.bounds for test in self.fields if test.bounds is not None}

    @property
    def plain(self) -> bool:
        """True when every test is on a top-level field and uses no regex (index-decidable)."""
        return all(len(test.parts) == 1 and not test.patterns for test in self.fields)


def compile_filter(query: Mapping[str, Any]) -> Filter | None:
    """The `Filter` for `query`, or None when some clause needs mongomock's matcher."""
    tests: dict[str, FieldTest] = {}
    if not _collect(query, tests):
        return None
    for test in tests.values():
        if test.bounds is not None:
            test.bounds.finish()
    return Filter(tuple(tests.values()))


def _collect(query: Mapping[str, Any], tests: dict[str, FieldTest]) -> bool:
    for name, condition in query.items():
        if name == "$and":
            if not isinstance(condition, list) or not condition:
                return False
            for clause in condition:
                if not isinstance(clause, dict) or not _collect(clause, tests):
                    return False
        elif not isinstance(name, str) or not _plain_path(name):
            return False  # $or, $nor, $expr, $comment, odd paths: mongomock decides
        elif not _field(tests, name, condition):
            return False
    return True


def _plain_path(name: str) -> bool:
    if "." not in name:
        return name[:1] not in ("", "$")
    return all(part[:1] not in ("", "$") for part in name.split("."))


def _operators(condition: Any) -> bool:
    """True for `{$op: ...}` documents (mongomock's test: every key starts with '$')."""
    if type(condition) is not dict or not condition:
        return False
    for key in condition:
        if type(key) is not str or key[:1] != "$":
            return False
    return True


def _field(tests: dict[str, FieldTest], name: str, condition: Any) -> bool:
    test = tests.get(name)
    if test is None:
        test = tests[name] = FieldTest(name, tuple(name.split(".")))
    if not _operators(condition):
        return _add_points(test, [condition])
    operators = dict(condition)
    if "$regex" in operators or "$options" in operators:
        pattern = _pattern(operators.pop("$regex", None), operators.pop("$options", ""))
        if pattern is None:
            return False
        test.patterns.append(pattern)
    for operator, argument in operators.items():
        if operator == "$eq":
            accepted = _add_points(test, [argument])
        elif operator == "$in":
            accepted = isinstance(argument, list) and _add_points(test, argument)
        elif operator in _RANGE_OPERATORS:
            accepted = _add_range(test, operator, argument)
        else:
            accepted = False
        if not accepted:
            return False
    return True


def _add_points(test: FieldTest, values: list[Any]) -> bool:
    keys: list[Key] = []
    for value in values:
        key = _operand_key(value)
        if key is None:
            return False
        keys.append(key)
    if test.bounds is None:
        test.bounds = FieldBounds()
    test.bounds.add_points(keys, list(values))
    return True


def _add_range(test: FieldTest, operator: str, value: Any) -> bool:
    key = _operand_key(value)
    if key is None or key == NULL_KEY:
        return False  # mongomock's `$gte: null` skips missing fields, an index would not
    if test.bounds is None:
        test.bounds = FieldBounds()
    if operator.startswith("$gt"):
        test.bounds.add_low(key, operator == "$gte")
    else:
        test.bounds.add_high(key, operator == "$lte")
    return True


def _operand_key(value: Any) -> Key | None:
    if type(value) not in _DECIDED_TYPES:
        return None
    if isinstance(value, datetime) and value.tzinfo is not None:
        return None  # stored datetimes are naive UTC; let mongomock report the mix
    return scalar_key(value)


def _pattern(source: Any, options: Any) -> re.Pattern[str] | None:
    """The regex mongomock would use (`$options` letters other than imxs are ignored)."""
    if type(source) is not str or type(options) is not str:
        return None
    flags = 0
    for letter in options:
        flags |= _REGEX_FLAGS.get(letter, 0)
    try:
        return re.compile(source, flags)
    except re.error:
        return None  # mongomock raises its own error for it
