"""Failures: the server-side form of a MongoDB error reply (`{ok: 0, errmsg, code, codeName}`).

`CommandFailed` never leaves the stand-in: the command layer turns it into the error document
PyMongo expects, so PyMongo raises its usual `OperationFailure` / `DuplicateKeyError` on the
client. Codes and names are MongoDB's own (src/mongo/base/error_codes.yml).
"""

from __future__ import annotations

from typing import Any

from pymongo.errors import OperationFailure

CODE_NAMES: dict[int, str] = {
    1: "InternalError",
    2: "BadValue",
    9: "FailedToParse",
    11: "UserNotFound",
    13: "Unauthorized",
    14: "TypeMismatch",
    20: "IllegalOperation",
    22: "InvalidBSON",
    26: "NamespaceNotFound",
    27: "IndexNotFound",
    43: "CursorNotFound",
    48: "NamespaceExists",
    59: "CommandNotFound",
    66: "ImmutableField",
    67: "CannotCreateIndex",
    72: "InvalidOptions",
    73: "InvalidNamespace",
    85: "IndexOptionsConflict",
    86: "IndexKeySpecsConflict",
    238: "NotImplemented",
    352: "UnsupportedOpQueryCommand",
    10334: "BSONObjectTooLarge",
    11000: "DuplicateKey",
    40415: "Location40415",
}

INTERNAL_ERROR = 1
BAD_VALUE = 2
FAILED_TO_PARSE = 9
TYPE_MISMATCH = 14
ILLEGAL_OPERATION = 20
NAMESPACE_NOT_FOUND = 26
INDEX_NOT_FOUND = 27
CURSOR_NOT_FOUND = 43
NAMESPACE_EXISTS = 48
COMMAND_NOT_FOUND = 59
UNSUPPORTED_OP_QUERY = 352
IMMUTABLE_FIELD = 66
CANNOT_CREATE_INDEX = 67
INVALID_OPTIONS = 72
INVALID_NAMESPACE = 73
INDEX_OPTIONS_CONFLICT = 85
INDEX_KEY_SPECS_CONFLICT = 86
NOT_IMPLEMENTED = 238
OBJECT_TOO_LARGE = 10334
DUPLICATE_KEY = 11000
UNKNOWN_FIELD = 40415
MISSING_DB = 40571


class CommandFailed(Exception):
    """A command (or one write inside it) failed; carries MongoDB's code and extra fields.

    Args:
        code: MongoDB error code (e.g. 11000).
        message: the `errmsg`, a full sentence.
        extra: more fields for the error document (e.g. `keyPattern`, `keyValue`).
    """

    def __init__(self, code: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.extra = extra

    @property
    def code_name(self) -> str:
        return CODE_NAMES.get(self.code, f"Location{self.code}")

    def to_reply(self) -> dict[str, Any]:
        """The top-level error reply of a failed command."""
        return {"ok": 0.0, **self.to_error_fields()}

    def to_error_fields(self) -> dict[str, Any]:
        """`errmsg`, `code`, `codeName` and the extra fields, for replies and `writeErrors`."""
        fields: dict[str, Any] = {
            "errmsg": self.message,
            "code": self.code,
            "codeName": self.code_name,
        }
        fields.update(self.extra)
        return fields


def refuse_option(option: str, command: str) -> CommandFailed:
    """The loud refusal of an option the stand-in does not implement."""
    return CommandFailed(
        NOT_IMPLEMENTED,
        f"The MongoDB stand-in does not support the '{option}' option (in '{command}'); "
        f"remove '{option}' or run against a real MongoDB by setting MONGODB_URI.",
    )


def unknown_field(command: str, field: str) -> CommandFailed:
    """MongoDB's own strict-parsing error for a field a command does not know."""
    return CommandFailed(
        UNKNOWN_FIELD,
        f"BSON field '{command}.{field}' is an unknown field; the MongoDB stand-in refuses "
        "options it does not implement rather than ignoring them.",
    )


def bad_value(message: str) -> CommandFailed:
    return CommandFailed(BAD_VALUE, message)


def from_exception(exc: Exception) -> CommandFailed | None:
    """The error reply for an exception raised inside mongomock; None if it is a real bug."""
    if isinstance(exc, CommandFailed):
        return exc
    if isinstance(exc, OperationFailure):  # mongomock raises PyMongo's own error classes
        code = exc.code if isinstance(exc.code, int) and exc.code else BAD_VALUE
        return CommandFailed(code, str(getattr(exc, "_message", exc)))
    if isinstance(exc, NotImplementedError):
        return CommandFailed(
            NOT_IMPLEMENTED,
            f"The MongoDB stand-in (mongomock) does not implement this: {exc}. Rewrite the "
            "operation or run against a real MongoDB by setting MONGODB_URI.",
        )
    if isinstance(exc, ValueError | TypeError | KeyError | IndexError):
        return CommandFailed(BAD_VALUE, f"Invalid request: {exc}")
    return None
