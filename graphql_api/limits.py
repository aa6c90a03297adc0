"""Limits: what one request may ask for, so no query can exhaust the server.

Depth, aliases and tokens are checked by Strawberry's extensions before anything executes; the
body size by `BodyLimit` while Strawberry reads the body (a file to import may be larger).
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Callable, Iterator

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    parse,
)
from starlette.requests import ClientDisconnect, HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)

from graphql_api.context import services_of

MAX_DEPTH = 10
MAX_ALIASES = 30
MAX_TOKENS = 4000  # GraphiQL's introspection query is about 250
MAX_BODY_BYTES = 256 * 1024  # queries are small; a post's text is at most 500 characters


# The rule classes are built once: Strawberry's limiters make a new class per instance, and a
# schema built with factories makes an instance per request, which would defeat the validation
# cache (it is keyed by the rules).
_RULES = [
    *QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules,
    *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules,
]
CACHED_DOCUMENTS = 512  # distinct query texts whose parse and validation are kept


class ParseErrorsReportingCache(ParserCache):
    """Strawberry's parser cache, whose parse errors reach the client on every transport.

    The cache parses in an extension hook. Over HTTP a syntax error raised there is reported,
    but the streaming path (WebSocket operations) runs the hook outside its error handling: a
    syntax error, or a document over the token limit, ended the operation with a server error
    and no message (found by tests/fuzz). On an error the document is left unparsed, so
    Strawberry parses it again inside its own handling and reports the error as GraphQL does.
    """

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        with contextlib.suppress(GraphQLError):
            context.graphql_document = self.cached_parse_document(
                context.query, **context.parse_options
            )
        yield


class LimitRules(AddValidationRules):
    """The depth and alias limits, as validation rules (so cached validations include them)."""

    def __init__(self) -> None:
        super().__init__(_RULES)


def limit_extensions() -> list[Callable[[], SchemaExtension]]:
    """Extension factories (Strawberry 0.341 wants classes or factories, not instances).

    Parsing and validating a document costs more than resolving a typical query, and clients
    send the same few documents again and again; both steps are cached per query text (the
    token limit is part of the parse cache's key, so it still applies).
    """
    return [
        LimitRules,
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: ParseErrorsReportingCache(maxsize=CACHED_DOCUMENTS),
        lambda: ValidationCache(maxsize=CACHED_DOCUMENTS),
    ]


class _BodyTooLarge(Exception):
    pass


UPLOAD_FIELD = "importPosts"  # the one operation whose body carries a file


def upload_file_bytes(conn: HTTPConnection) -> int:
    """The largest file `importPosts` takes (IMPORT_MAX_BYTES)."""
    return services_of(conn).settings.import_max_bytes


def upload_body_bytes(max_bytes: int, file_bytes: int) -> int:
    """The largest body an `importPosts` request may have: the file in base64 (4 characters per
    3 bytes) plus the room any request has for the query and the other variables."""
    return max_bytes + 4 * math.ceil(file_bytes / 3)


def only_uploads(body: bytes) -> bool:
    """Whether a JSON GraphQL request asks for nothing but `importPosts` (mutation root fields)."""
    document: DocumentNode | None = None
    # Anything malformed is simply "not an upload": the request is then refused for its size.
    with contextlib.suppress(ValueError, RecursionError, GraphQLError):
        payload = json.loads(body)
        if isinstance(payload, dict) and isinstance(payload.get("query"), str):
            document = parse(payload["query"], no_location=True, max_tokens=MAX_TOKENS)
    if document is None:
        return False
    for definition in document.definitions:
        if not (
            isinstance(definition, OperationDefinitionNode)
            and definition.operation is OperationType.MUTATION
            and all(
                isinstance(selection, FieldNode) and selection.name.value == UPLOAD_FIELD
                for selection in definition.selection_set.selections
            )
        ):
            return False
    return True


class BodyLimit:
    """ASGI middleware: answer 413 to an HTTP body over `max_bytes` (declared or streamed).

    `importPosts` alone may send more: the file, base64-encoded in the JSON body (the web app
    accepts only JSON at /graphql), up to `upload_body_bytes`. Which operation a body holds is
    known only once it is read, so a body over `max_bytes` is read up to that larger bound and
    then refused unless it asks for `importPosts` only. Nothing was sent by then: Strawberry
    reads the whole body before it answers.
    """

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int = MAX_BODY_BYTES,
        file_bytes: Callable[[HTTPConnection], int] = upload_file_bytes,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.file_bytes = file_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        file_bytes = self.file_bytes(HTTPConnection(scope))
        bound = upload_body_bytes(self.max_bytes, file_bytes)
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > bound:
            await self._refuse(send, file_bytes)
            return
        chunks: list[bytes] = []
        received = 0
        complete = False

        async def counting_receive() -> Message:
            nonlocal received, complete
            message = await receive()
            if complete:  # the body was checked already (this is e.g. a disconnect)
                return message
            chunk: bytes = message.get("body", b"")
            received += len(chunk)
            chunks.append(chunk)
            complete = not message.get("more_body", False)
            if received > bound or (
                complete and received > self.max_bytes and not only_uploads(b"".join(chunks))
            ):
                raise _BodyTooLarge
            return message

        try:
            await self.app(scope, counting_receive, send)
        except _BodyTooLarge:
            await self._refuse(send, file_bytes)
        except ClientDisconnect:
            # The client left before its body was complete: nobody is there to answer, and it is
            # no error of ours (Strawberry let it through, and the server logged it as one).
            return

    async def _refuse(self, send: Send, file_bytes: int) -> None:
        message = (
            f"The request body is larger than {self.max_bytes // 1024} KiB; send a smaller "
            "query (put data in variables, and split large batches). Only importPosts takes "
            f"more: a file of up to {file_bytes / 1_000_000:.1f} MB (IMPORT_MAX_BYTES), "
            "base64-encoded."
        )
        body = json.dumps({"errors": [{"message": message}]}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
