"""IMAP4rev1 (RFC 3501) and IMAP4rev2 (RFC 9051): the pure layer under the IMAP server.

`reader` frames bytes from the socket into complete commands (literals included), `parser` turns one command
into a typed value from `commands`, `response` writes replies. Nothing here does I/O or touches services.
"""
