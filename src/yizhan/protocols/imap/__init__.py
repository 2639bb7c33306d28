"""IMAP4rev1 (RFC 3501) and IMAP4rev2 (RFC 9051): the pure layer under the IMAP server. No I/O, no services.

How a session uses it:

1. `reader.CommandReader(limits, literal_minus=...)`: `feed(bytes)`, then `next_event()` until None. Events:
   `CommandFrame(data)` → parse it; `ContinuationNeeded(tag, size)` → send `response.continuation()`;
   `FramingError(tag, message, fatal, toobig)` → BYE and close when `fatal`, else `NO [TOOBIG]` when `toobig`,
   else BAD.
2. `parser.parse_command(data, utf8=...)` → a `commands.Command` (one frozen dataclass per command; SEARCH
   criteria are a `search.SearchKey` tree; sequence sets are `sequence.SequenceSet`, resolved by the session with
   `resolve(largest)`), or raises `errors.ParseError(message, tag, bad, code)`. `parser.parse_sasl_response(line)`
   reads an AUTHENTICATE continuation line (None for `*`). The `DONE` line ending IDLE parses as `commands.Done`.
3. `response`: `tagged`, `untagged`, `untagged_status`, `continuation`, `fetch` with `fetch_key`, `list_line`,
   `status_line`, `search_line`, `esearch_line`, `vanished_line`, `date_time`, `string` / `astring` / `mailbox`
   and `render` of values (`Atom`, `Raw` for `mail.imapformat` output, `Literal8`, lists, NIL); `ResponseCode`.
   Pass `utf8=True` once the client enabled UTF8=ACCEPT or IMAP4rev2.
4. `mutf7.encode` / `mutf7.decode`: modified UTF-7 mailbox names (RFC 3501 §5.1.3).
"""
