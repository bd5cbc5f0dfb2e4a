"""Kefu's customer channels (what credentials.yml names) and the rules they apply first.

- ``socketio_input.KefuSocketIOInput``: the chat page's socket.io (rasa-webchat protocol).
- ``rest_input.KefuRestInput``: ``POST /webhooks/kefu/webhook``.
- ``gate.HandoffGate``: is this conversation with a person? (one Redis GET per message)
- ``guard.CustomerGuard``: what a customer may send at all; ``rest_sessions``: anonymous REST keys.
- ``speedups``: Rasa 3.6 hot-path fixes the channels install.
"""
