"""Wire: MongoDB message framing (OP_MSG, legacy OP_QUERY/OP_REPLY) and BSON decoding.

Every message starts with a 16-byte little-endian header: messageLength, requestID, responseTo,
opCode. OP_MSG (2013) carries flag bits and sections: kind 0 is the command body, kind 1 a
document sequence (e.g. the `documents` of an insert) that is folded into the body under its
identifier. OP_QUERY (2004) is only used by drivers for the first handshake and is answered
with OP_REPLY (1). Compression (OP_COMPRESSED, 2012) is never advertised, so never expected.
"""

from __future__ import annotations

import asyncio
import itertools
import struct
from dataclasses import dataclass
from typing import Any

import bson
from bson.codec_options import CodecOptions

OP_REPLY = 1
OP_QUERY = 2004
OP_COMPRESSED = 2012
OP_MSG = 2013

CHECKSUM_PRESENT = 1 << 0
MORE_TO_COME = 1 << 1
EXHAUST_ALLOWED = 1 << 16
# Bits 0-15 are "required": a receiver must reject unknown ones. Bits 16+ are optional.
_KNOWN_REQUIRED_BITS = CHECKSUM_PRESENT | MORE_TO_COME

MAX_MESSAGE_SIZE = 48_000_000
MAX_BSON_SIZE = 16 * 1024 * 1024

_HEADER = struct.Struct("<iiii")
_INT32 = struct.Struct("<i")
_UINT32 = struct.Struct("<I")

# Naive UTC datetimes and plain dicts internally; Binary subtypes round-trip untouched.
CODEC_OPTIONS: CodecOptions[dict[str, Any]] = CodecOptions(document_class=dict, tz_aware=False)

_request_ids = itertools.count(1)


class WireError(Exception):
    """A message that cannot be framed or parsed: the connection must be closed."""


@dataclass(frozen=True, slots=True)
class Header:
    """The 16-byte message header."""

    length: int
    request_id: int
    response_to: int
    op_code: int


@dataclass(slots=True)
class Request:
    """A command read off the wire, with what is needed to answer it."""

    header: Header
    command: dict[str, Any]
    more_to_come: bool = False
    legacy: bool = False  # came as OP_QUERY: answer with OP_REPLY
    exhaust_allowed: bool = False


async def read_message(reader: asyncio.StreamReader) -> tuple[Header, bytes] | None:
    """Read one framed message; None on a clean end of stream."""
    try:
        raw = await reader.readexactly(_HEADER.size)
    except asyncio.IncompleteReadError as exc:
        if exc.partial:
            raise WireError("The connection closed in the middle of a message header.") from exc
        return None
    header = Header(*_HEADER.unpack(raw))
    if header.length < _HEADER.size or header.length > MAX_MESSAGE_SIZE:
        raise WireError(f"Message length {header.length} is out of range.")
    body = await reader.readexactly(header.length - _HEADER.size)
    return header, body


def parse_request(header: Header, body: bytes) -> Request:
    """Turn a framed OP_MSG or OP_QUERY into a command; raise WireError for anything else."""
    if header.op_code == OP_MSG:
        return _parse_op_msg(header, body)
    if header.op_code == OP_QUERY:
        return _parse_op_query(header, body)
    if header.op_code == OP_COMPRESSED:
        raise WireError("OP_COMPRESSED was sent, but the stand-in never advertises compression.")
    raise WireError(f"Unsupported opCode {header.op_code}.")


def _parse_op_msg(header: Header, body: bytes) -> Request:
    if len(body) < 5:
        raise WireError("OP_MSG is too short.")
    (flags,) = _UINT32.unpack_from(body, 0)
    if flags & 0xFFFF & ~_KNOWN_REQUIRED_BITS:
        raise WireError(f"OP_MSG has unknown required flag bits set: {flags:#x}.")
    end = len(body) - (4 if flags & CHECKSUM_PRESENT else 0)  # the CRC-32C is not verified
    position = 4
    command: dict[str, Any] | None = None
    sequences: dict[str, list[dict[str, Any]]] = {}
    try:
        while position < end:
            kind = body[position]
            position += 1
            if kind == 0:
                if command is not None:
                    raise WireError("OP_MSG has more than one body section.")
                (size,) = _INT32.unpack_from(body, position)
                command = bson.decode(body[position : position + size], CODEC_OPTIONS)
                position += size
            elif kind == 1:
                (size,) = _INT32.unpack_from(body, position)
                section_end = position + size
                name_end = body.index(b"\x00", position + 4, section_end)
                identifier = body[position + 4 : name_end].decode()
                sequences[identifier] = bson.decode_all(
                    body[name_end + 1 : section_end], CODEC_OPTIONS
                )
                position = section_end
            else:
                raise WireError(f"OP_MSG has an unknown section kind {kind}.")
    except (struct.error, ValueError, bson.errors.BSONError) as exc:
        raise WireError(f"OP_MSG could not be parsed: {exc}") from exc
    if command is None or position != end:
        raise WireError("OP_MSG has no body section or trailing bytes.")
    for identifier, documents in sequences.items():
        if identifier in command:
            raise WireError(f"OP_MSG sends '{identifier}' both in the body and as a sequence.")
        command[identifier] = documents
    return Request(
        header,
        command,
        more_to_come=bool(flags & MORE_TO_COME),
        exhaust_allowed=bool(flags & EXHAUST_ALLOWED),
    )


def _parse_op_query(header: Header, body: bytes) -> Request:
    try:
        name_end = body.index(b"\x00", 4)
        namespace = body[4:name_end].decode()
        position = name_end + 1 + 8  # numberToSkip, numberToReturn
        (size,) = _INT32.unpack_from(body, position)
        query = bson.decode(body[position : position + size], CODEC_OPTIONS)
    except (struct.error, ValueError, bson.errors.BSONError) as exc:
        raise WireError(f"OP_QUERY could not be parsed: {exc}") from exc
    database, _, collection = namespace.partition(".")
    if collection != "$cmd":
        # Legacy find on a collection; answered as a query failure by the command layer.
        return Request(header, {"$legacyQuery": namespace, "$db": database}, legacy=True)
    if "$query" in query:  # drivers wrap the command when they add $readPreference
        query = dict(query["$query"])
    query["$db"] = database
    return Request(header, query, legacy=True)


def encode_op_msg(reply: dict[str, Any], response_to: int) -> bytes:
    """An OP_MSG answer with one body section and no flags."""
    payload = b"\x00\x00\x00\x00\x00" + bson.encode(reply)  # flagBits = 0, section kind 0
    return _HEADER.pack(16 + len(payload), next(_request_ids), response_to, OP_MSG) + payload


def encode_op_reply(
    reply: dict[str, Any], response_to: int, *, query_failure: bool = False
) -> bytes:
    """An OP_REPLY answer (to a legacy OP_QUERY) carrying one document."""
    flags = 2 if query_failure else 0  # bit 1: QueryFailure
    payload = struct.pack("<iqii", flags, 0, 0, 1) + bson.encode(reply)
    return _HEADER.pack(16 + len(payload), next(_request_ids), response_to, OP_REPLY) + payload
