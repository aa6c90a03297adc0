"""Publishing: from "a post is due" to "it is on Threads", exactly once.

The event-driven engine, dispatch and takeover, the publisher and its releaser, preparation timing,
the SAQ jobs and the worker process.
"""
