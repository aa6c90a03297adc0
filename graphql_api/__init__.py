"""The Strawberry GraphQL API: a thin interface over the scheduler core."""
