"""Network protocol servers: SMTP, LMTP, IMAP, POP3."""
