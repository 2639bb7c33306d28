"""The one error of the pure IMAP layer: a command that cannot be understood.

Invariant: the parser, the sequence-set and modified UTF-7 helpers raise nothing but `ParseError` on any input.
The session maps it to a reply in one place: `bad` says whether the answer is a tagged BAD (syntax, RFC 9051 §7.1.5)
or NO (understood but refused, e.g. `NO [BADCHARSET]`, RFC 9051 §7.1.2); `code` is the response code to send, if any.
A `tag` of None means the tag itself could not be read: the session answers with an untagged `* BAD`.
"""

from __future__ import annotations

from yizhan.util.errors import InvalidInput


class ParseError(InvalidInput):
    """A command that cannot be parsed; the message is safe to send to the client."""

    def __init__(self, message: str, *, tag: str | None = None, bad: bool = True, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.tag = tag
        self.bad = bad
        self.code = code

    def with_tag(self, tag: str | None) -> ParseError:
        """The same error, carrying the command's tag (kept if already set)."""
        if self.tag is not None or tag is None:
            return self
        return ParseError(self.message, tag=tag, bad=self.bad, code=self.code)

    def __repr__(self) -> str:
        return f"ParseError({self.message!r}, tag={self.tag!r}, bad={self.bad}, code={self.code!r})"
