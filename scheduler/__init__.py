"""The scheduler core: settings, clock, errors, documents, services and the scheduling engine."""
