"""Small helpers with no knowledge of mail: durable file writes, time, identifiers."""
