"""Tests of the sandbox: the MongoDB stand-in and the Threads simulator."""
