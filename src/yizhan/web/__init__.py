"""Webmail, admin console and REST API. Filled in by the web issue."""
