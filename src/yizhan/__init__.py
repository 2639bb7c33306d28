"""Yizhan (驿站): a self-hosted mail system in one Python process.

Layers, each importing only those before it:
util, config -> mail -> dns, authn -> store -> services -> queue -> protocols, web -> cli -> app.
"""

__version__ = "0.1.0"
