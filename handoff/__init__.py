"""Kefu human-handoff bridge: queue (Redis), agent API and relay to customers."""
