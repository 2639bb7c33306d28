"""Bulk account import: CSV text → rows to create and rows rejected with the reason, and the report.

Format (RFC 4180, comma or semicolon separated, UTF-8 with or without BOM): `address, display name, password,
quota, role`; only the address is required. An empty password means "generate one"; an empty quota means
unlimited; an empty role means user. A first row whose first cell is `address` (any case) is a header.

Pure (no I/O, never raises on content): the service (services/admin.py) checks each parsed row against the
directory and the caller's rights, and creates it. Limits: `MAX_BYTES` of text and `MAX_ROWS` rows; rows beyond
are rejected, not silently dropped.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from yizhan.services.admin_setup import parse_size
from yizhan.util.errors import InvalidInput

MAX_BYTES = 1024 * 1024
MAX_ROWS = 1000
_MAX_FIELD = 1000


@dataclass(frozen=True, slots=True)
class ImportRow:
    line: int
    address: str
    display_name: str
    password: str  # "" → generate one
    quota_bytes: int
    role: str


@dataclass(frozen=True, slots=True)
class Rejected:
    line: int
    address: str
    reason: str


@dataclass(frozen=True, slots=True)
class Created:
    line: int
    address: str
    # The password to hand to the user: generated here, or "" when the file gave one (not repeated back).
    generated_password: str


@dataclass
class ImportReport:
    created: list[Created] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)

    def passwords_csv(self) -> str:
        """The generated passwords as CSV (address, password), for the one download the report offers."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(["address", "password"])
        for item in self.created:
            if item.generated_password:
                writer.writerow([item.address, item.generated_password])
        return out.getvalue()


def _dialect(sample: str) -> str:
    first = sample.split("\n", 1)[0]
    return ";" if first.count(";") > first.count(",") else ","


def parse_csv(text: str) -> tuple[list[ImportRow], list[Rejected]]:
    """The rows of `text` that parse, and those that do not with why (line numbers count from 1)."""
    if len(text.encode("utf-8", "replace")) > MAX_BYTES:
        raise InvalidInput(f"the file is larger than {MAX_BYTES // 1024} KiB: split it into smaller files")
    text = text.lstrip("\ufeff")
    rows: list[ImportRow] = []
    rejected: list[Rejected] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_dialect(text))
    seen: set[str] = set()
    counted = 0
    try:
        for cells in reader:
            line = reader.line_num
            cells = [cell.strip() for cell in cells]
            if not any(cells):
                continue
            if counted == 0 and not rows and not rejected and cells[0].lower() in ("address", "email", "邮箱地址"):
                continue
            counted += 1
            address = cells[0][:320]
            if counted > MAX_ROWS:
                rejected.append(Rejected(line, address, f"more than {MAX_ROWS} rows: import the rest separately"))
                continue
            if len(cells) > 5 or any(len(cell) > _MAX_FIELD for cell in cells):
                rejected.append(Rejected(line, address, "a row has at most 5 fields (address, display name, "
                                                        "password, quota, role), each under 1000 characters"))
                continue
            cells += [""] * (5 - len(cells))
            name, password, quota, role = cells[1], cells[2], cells[3], cells[4].lower() or "user"
            if not address:
                rejected.append(Rejected(line, "", "the address is missing"))
                continue
            if address.lower() in seen:
                rejected.append(Rejected(line, address, "this address appears earlier in the file"))
                continue
            try:
                quota_bytes = parse_size(quota)
            except InvalidInput as exc:
                rejected.append(Rejected(line, address, str(exc)))
                continue
            seen.add(address.lower())
            rows.append(ImportRow(line, address, name, password, quota_bytes, role))
    except csv.Error as exc:
        rejected.append(Rejected(reader.line_num, "", f"the CSV cannot be read from here on: {exc}"))
    return rows, rejected
