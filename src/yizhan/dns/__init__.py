"""DNS lookups (MX, A/AAAA, TXT) for delivery and authentication. Filled in by the SMTP issue."""
