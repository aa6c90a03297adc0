"""The sandbox: run and test the scheduler without a MongoDB server or Meta.

The MongoDB wire-protocol stand-in, the Threads Graph API simulator and the `dev` all-in-one
launcher. It is a distribution of its own (`sandbox/pyproject.toml`) that `scripts/setup` installs
for `dev` and the tests; the product (`scheduler`, `graphql_api`, `web`) never imports it, and the
production image does not contain it.
"""
