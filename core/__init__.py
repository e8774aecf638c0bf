"""Shared leaf package: pieces every process uses, in both Python environments.

It imports nothing of ours and only the standard library, so Rasa's plug-ins,
the action server and the web app can all use it.
"""
