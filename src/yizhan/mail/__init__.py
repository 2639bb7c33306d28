"""Pure mail handling: MIME parsing, addresses, charsets, IMAP ENVELOPE/BODYSTRUCTURE, search tokens. No I/O."""
