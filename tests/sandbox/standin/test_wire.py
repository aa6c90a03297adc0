"""The wire format, byte by byte, over a real socket to the stand-in process."""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import bson
import pytest

from sandbox.standin.wire import (
    CHECKSUM_PRESENT,
    MORE_TO_COME,
    OP_MSG,
    OP_QUERY,
    OP_REPLY,
    Header,
    WireError,
    parse_request,
)

pytestmark = pytest.mark.usefixtures("standin_only")


@pytest.fixture
def conn(mongo_url: str) -> Iterator[socket.socket]:
    parts = urlsplit(mongo_url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=5)
    try:
        yield sock
    finally:
        sock.close()


def _message(op_code: int, payload: bytes, request_id: int = 7) -> bytes:
    return struct.pack("<iiii", 16 + len(payload), request_id, 0, op_code) + payload


def _op_msg(
    body: dict[str, Any], flags: int = 0, sequences: dict[str, list[Any]] | None = None
) -> bytes:
    payload = struct.pack("<I", flags) + b"\x00" + bson.encode(body)
    for identifier, documents in (sequences or {}).items():
        raw = identifier.encode() + b"\x00" + b"".join(bson.encode(d) for d in documents)
        payload += b"\x01" + struct.pack("<i", 4 + len(raw)) + raw
    if flags & CHECKSUM_PRESENT:
        payload += b"\x00\x00\x00\x00"
    return _message(OP_MSG, payload)


def _receive(sock: socket.socket) -> tuple[Header, bytes]:
    header = Header(*struct.unpack("<iiii", _exactly(sock, 16)))
    return header, _exactly(sock, header.length - 16)


def _exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


def _reply(sock: socket.socket) -> dict[str, Any]:
    header, body = _receive(sock)
    assert header.op_code == OP_MSG
    assert header.response_to == 7
    assert body[:5] == b"\x00\x00\x00\x00\x00"  # no flags, one body section
    return bson.decode(body[5:])


def test_op_msg_round_trip_with_document_sequence(conn: socket.socket) -> None:
    conn.sendall(
        _op_msg(
            {"insert": "wire", "$db": "wire_db"}, sequences={"documents": [{"_id": 1}, {"_id": 2}]}
        )
    )
    assert _reply(conn) == {"n": 2, "ok": 1.0}
    conn.sendall(_op_msg({"find": "wire", "filter": {"_id": 2}, "$db": "wire_db"}))
    assert _reply(conn)["cursor"]["firstBatch"] == [{"_id": 2}]
    conn.sendall(_op_msg({"dropDatabase": 1, "$db": "wire_db"}))
    assert _reply(conn)["ok"] == 1.0


def test_checksum_is_accepted_and_more_to_come_gets_no_reply(conn: socket.socket) -> None:
    conn.sendall(_op_msg({"ping": 1, "$db": "admin"}, flags=CHECKSUM_PRESENT))
    assert _reply(conn) == {"ok": 1.0}
    conn.sendall(
        _op_msg(
            {"insert": "w0", "documents": [{"_id": "quiet"}], "$db": "wire_db"}, flags=MORE_TO_COME
        )
    )
    conn.sendall(_op_msg({"count": "w0", "$db": "wire_db"}))
    assert _reply(conn) == {"n": 1, "ok": 1.0}  # the first answer is the count's: no w:0 reply
    conn.sendall(_op_msg({"dropDatabase": 1, "$db": "wire_db"}))
    _reply(conn)


def test_legacy_op_query_handshake_gets_op_reply(conn: socket.socket) -> None:
    query = bson.encode({"isMaster": 1, "helloOk": True})
    payload = struct.pack("<i", 0) + b"admin.$cmd\x00" + struct.pack("<ii", 0, -1) + query
    conn.sendall(_message(OP_QUERY, payload))
    header, body = _receive(conn)
    assert header.op_code == OP_REPLY
    flags, cursor_id, starting_from, returned = struct.unpack_from("<iqii", body)
    assert (flags, cursor_id, starting_from, returned) == (0, 0, 0, 1)
    reply = bson.decode(body[20:])
    assert reply["ismaster"] is True and reply["helloOk"] is True
    assert reply["maxWireVersion"] >= 21


def test_legacy_op_query_for_other_commands_is_refused(conn: socket.socket) -> None:
    query = bson.encode({"find": "x"})
    payload = struct.pack("<i", 0) + b"db.$cmd\x00" + struct.pack("<ii", 0, -1) + query
    conn.sendall(_message(OP_QUERY, payload))
    _, body = _receive(conn)
    reply = bson.decode(body[20:])
    assert reply["ok"] == 0 and reply["code"] == 352


def test_unknown_opcode_closes_the_connection(conn: socket.socket) -> None:
    conn.sendall(_message(2012, b"\x00" * 9))  # OP_COMPRESSED is never advertised
    assert conn.recv(1) == b""


def test_a_missing_db_is_an_error_not_a_crash(conn: socket.socket) -> None:
    conn.sendall(_op_msg({"ping": 1}))
    reply = _reply(conn)
    assert reply["ok"] == 0 and "$db" in reply["errmsg"]


@pytest.mark.parametrize(
    "payload",
    [
        struct.pack("<I", 1 << 5) + b"\x00" + bson.encode({"ping": 1}),  # unknown required bit
        struct.pack("<I", 0) + b"\x02" + bson.encode({"ping": 1}),  # unknown section kind
        struct.pack("<I", 0),  # no body section
    ],
)
def test_malformed_op_msg_is_a_wire_error(payload: bytes) -> None:
    with pytest.raises(WireError):
        parse_request(Header(16 + len(payload), 1, 0, OP_MSG), payload)
