"""Operations: what happens around publishing.

Health and metrics, monitoring, insights, notifications, webhooks, and the reactor that turns events
into those reactions.
"""
