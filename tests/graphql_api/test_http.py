"""The HTTP side of /graphql: GET queries, mutations refused over GET, and the offline GraphiQL
page with its vendored assets (checked against the MANIFEST)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from tests.conftest import AppClientFactory
from tests.graphql_api.conftest import Api

VENDOR = Path(__file__).parents[2] / "static" / "vendor" / "graphiql"


async def test_queries_work_over_get_but_mutations_do_not(api: Api):
    response = await api.client.get(
        "/graphql", params={"query": "{ health me { role } }"}, headers=api.headers()
    )
    assert response.json() == {"data": {"health": "ok", "me": {"role": "OWNER"}}}
    mutation = 'mutation { cancelPost(input: {id: "x"}) { __typename } }'
    refused = await api.client.get("/graphql", params={"query": mutation}, headers=api.headers())
    assert refused.status_code == 400
    assert "mutations are not allowed when using GET" in refused.text


async def test_graphiql_page_loads_only_vendored_assets(app_client: AppClientFactory):
    client = await app_client()
    page = await client.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    urls = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert urls and all(url.startswith("/static/vendor/graphiql/") for url in urls), urls
    assert "unpkg" not in page.text and "cdn" not in page.text.lower()
    assert 'data-endpoint="/graphql"' in page.text
    for url in urls:
        asset = await client.get(url)
        assert asset.status_code == 200, url
        assert asset.content == (VENDOR / url.rsplit("/", 1)[1]).read_bytes()


def test_vendored_files_match_their_manifest():
    rows = [line.split() for line in (VENDOR / "MANIFEST").read_text().splitlines()]
    files = {row[0]: row[2] for row in rows if row and not row[0].startswith("#")}
    assert set(files) == {
        "graphiql-4.1.2.min.js",
        "graphiql-4.1.2.min.css",
        "react-18.3.1.production.min.js",
        "react-dom-18.3.1.production.min.js",
        "LICENSE.graphiql",
        "LICENSE.react",
        "LICENSE.react-dom",
    }
    for name, digest in files.items():
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == digest, name
