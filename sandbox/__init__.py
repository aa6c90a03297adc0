"""The sandbox: run and test the scheduler without a MongoDB server or Meta.

The MongoDB wire-protocol stand-in, the Threads Graph API simulator and the `dev` all-in-one
launcher. The product (`scheduler`, `graphql_api`, `web`) never imports it.
"""
