"""The outbound delivery queue: the runner that sends queued mail to MX hosts or a smarthost, retries, bounces.

Modules: `schedule.py` (when to retry, expire, send a delay notice), `transport.py` (one SMTP client connection:
opportunistic STARTTLS, per-recipient replies), `bounce.py` (DSNs to the sender), `runner.py` (the `QueueRunner`).
"""
