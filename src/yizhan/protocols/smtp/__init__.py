"""SMTP, submission and LMTP servers on aiosmtpd (issue 3).

Modules: server.py (openers for app/listeners.py), session.py (the aiosmtpd protocol subclass: limits, replies,
AUTH, timeouts), handler.py (shared hooks), inbound.py (MX), submission.py, lmtp.py, replies.py (the one place
errors become SMTP replies), content.py (line endings, header lookup, added fields),
received.py (the Received trace field). Rules live in services (submit.py, senders.py); this package parses and
formats.
"""
