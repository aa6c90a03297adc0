"""Accounts and identity.

Connected Threads profiles and their tokens, dashboard users, logins and API tokens, who is asking
(actors), the encryption of secrets at rest, and the seed's one-account bootstrap.
"""
