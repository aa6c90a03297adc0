"""IDE: the GraphiQL page, served from the vendored assets (no CDN, works offline).

Strawberry's own page loads GraphiQL from unpkg.com; this one loads the copies pinned in
`static/vendor/graphiql/` (see its MANIFEST) and starts them with `graphiql-start.js`, an external
script so a strict Content-Security-Policy needs no inline-script exception.
"""

from __future__ import annotations

from html import escape

VENDOR = "/static/vendor/graphiql"
STYLES = ("graphiql-4.1.2.min.css",)
SCRIPTS = (
    "react-18.3.1.production.min.js",
    "react-dom-18.3.1.production.min.js",
    "graphiql-4.1.2.min.js",
    "graphiql-start.js",
)

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>GraphiQL · Threads Scheduler</title>
<style>html, body, #graphiql {{ height: 100%; margin: 0; }}</style>
{styles}
</head>
<body>
<div id="graphiql" data-endpoint="{endpoint}">Loading GraphiQL…</div>
{scripts}
</body>
</html>
"""


# GraphiQL sets inline styles (React style attributes) and its CSS embeds its fonts as data: URIs;
# scripts stay 'self' only, and the page sends this policy itself, so the app's stricter default
# does not apply to it.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "font-src 'self' data:",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)


def graphiql_page(*, root_path: str = "", endpoint: str = "/graphql") -> str:
    """The HTML of the playground; `root_path` prefixes every URL (an app mounted below `/`)."""
    base = escape(root_path.rstrip("/") + VENDOR)
    styles = "\n".join(f'<link rel="stylesheet" href="{base}/{name}">' for name in STYLES)
    scripts = "\n".join(f'<script src="{base}/{name}"></script>' for name in SCRIPTS)
    return _PAGE.format(
        styles=styles, scripts=scripts, endpoint=escape(root_path.rstrip("/") + endpoint)
    )
