"""Sender authentication: SPF, DKIM, DMARC. Filled in by the SMTP issue."""
