"""The POP3 command parser: one command line (bytes, without its CRLF) → a frozen command, or `CommandError`.

Pure: no I/O, no state. It never raises anything but `CommandError` on any input.
- Keywords are case-insensitive (RFC 1939 §3); arguments are separated by single spaces, but runs of spaces are
  accepted. A message number is 1-10 decimal digits (RFC 1939 §3: "message-number"), TOP's line count too.
- PASS takes the rest of the line as the password, spaces included (RFC 1939 §7, PASS discussion).
- Arguments are at most 40 octets (RFC 2449 §4), except PASS and AUTH's initial response (RFC 5034 §4).
- Line length is the connection's business (the 255-octet limit of RFC 2449 §4 is enforced where lines are read).
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_ARGUMENT = 40
_MAX_NUMBER_DIGITS = 10


class CommandError(Exception):
    """The line is not a command we accept; the message is safe to send after -ERR."""


@dataclass(frozen=True, slots=True)
class User:
    name: str


@dataclass(frozen=True, slots=True)
class Pass:
    password: str


@dataclass(frozen=True, slots=True)
class Auth:
    mechanism: str | None  # None: list the mechanisms
    initial: str | None  # The initial response (RFC 5034 §4), "=" for an empty one


@dataclass(frozen=True, slots=True)
class Stat:
    pass


@dataclass(frozen=True, slots=True)
class List:
    number: int | None


@dataclass(frozen=True, slots=True)
class Uidl:
    number: int | None


@dataclass(frozen=True, slots=True)
class Retr:
    number: int


@dataclass(frozen=True, slots=True)
class Top:
    number: int
    lines: int


@dataclass(frozen=True, slots=True)
class Dele:
    number: int


@dataclass(frozen=True, slots=True)
class Noop:
    pass


@dataclass(frozen=True, slots=True)
class Rset:
    pass


@dataclass(frozen=True, slots=True)
class Quit:
    pass


@dataclass(frozen=True, slots=True)
class Capa:
    pass


@dataclass(frozen=True, slots=True)
class Stls:
    pass


Command = User | Pass | Auth | Stat | List | Uidl | Retr | Top | Dele | Noop | Rset | Quit | Capa | Stls


def _number(text: str, what: str = "message number") -> int:
    if not text or len(text) > _MAX_NUMBER_DIGITS or not text.isascii() or not text.isdigit():
        raise CommandError(f"invalid {what}")
    return int(text)


def _message_number(text: str) -> int:
    number = _number(text)
    if number < 1:
        raise CommandError("invalid message number")
    return number


def _arguments(rest: str, least: int, most: int) -> list[str]:
    parts = rest.split()
    if not least <= len(parts) <= most:
        raise CommandError("wrong number of arguments")
    if any(len(part) > MAX_ARGUMENT for part in parts):
        raise CommandError("argument too long")
    return parts


def _no_arguments(rest: str, command: Command) -> Command:
    _arguments(rest, 0, 0)
    return command


def _optional_number(rest: str) -> int | None:
    parts = _arguments(rest, 0, 1)
    return _message_number(parts[0]) if parts else None


def parse_command(line: bytes) -> Command:
    """Parse one command line (CRLF removed)."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        raise CommandError("command is not valid UTF-8") from None
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise CommandError("control characters in command")
    keyword, _, rest = text.partition(" ")
    keyword = keyword.upper()
    if keyword == "PASS":
        if not rest:
            raise CommandError("PASS needs a password")
        return Pass(rest)
    if keyword == "AUTH":
        parts = rest.split()
        if len(parts) > 2:
            raise CommandError("wrong number of arguments")
        if parts and len(parts[0]) > MAX_ARGUMENT:
            raise CommandError("argument too long")
        return Auth(parts[0].upper() if parts else None, parts[1] if len(parts) > 1 else None)
    if keyword == "USER":
        return User(_arguments(rest, 1, 1)[0])
    if keyword in ("RETR", "DELE"):
        number = _message_number(_arguments(rest, 1, 1)[0])
        return Retr(number) if keyword == "RETR" else Dele(number)
    if keyword == "TOP":
        number_text, lines_text = _arguments(rest, 2, 2)
        return Top(_message_number(number_text), _number(lines_text, "line count"))
    if keyword == "LIST":
        return List(_optional_number(rest))
    if keyword == "UIDL":
        return Uidl(_optional_number(rest))
    simple: dict[str, Command] = {"STAT": Stat(), "NOOP": Noop(), "RSET": Rset(), "QUIT": Quit(), "CAPA": Capa(),
                                  "STLS": Stls()}
    if keyword in simple:
        return _no_arguments(rest, simple[keyword])
    if not keyword:
        raise CommandError("empty command")
    raise CommandError("unknown command")
