"""Kefu's Rasa components, channels and the process that runs the stack."""
