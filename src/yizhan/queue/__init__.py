"""The outbound delivery queue. Filled in by the SMTP issue."""
