"""The POP3 server (RFC 1939, CAPA RFC 2449, STLS RFC 2595, AUTH PLAIN RFC 5034, response codes RFC 3206).

Modules: `commands` (pure parser: a line → a frozen command), `replies` (formatting, dot-stuffing and the one
mapping of errors to -ERR), `session` (the AUTHORIZATION → TRANSACTION → UPDATE state machine, no I/O), `server`
(the connection: limits, STLS, writing; `open_pop3`, the listener opener). Mailbox rules live in
`services/maildrop.py`.
"""
