"""Address-book CSV files: reading the exports of Outlook, Google Contacts, Foxmail, QQ Mail and the like (English
or Chinese headers) into `ContactCard`s, and writing a CSV this module reads back.

Reading never raises. The bytes are decoded as UTF-8 or UTF-16 (BOM) or else GB18030, which Chinese Outlook and
Foxmail write; the delimiter is sniffed among comma, semicolon and tab. The first row is the header; each column is
mapped by its normalised name (`map_header`), unknown columns are ignored. Each data row yields (row number, card),
the header being row 1, so a report can name the row a user should fix.

Writing (`write_csv`) quotes every field, starts with a UTF-8 BOM so that Excel reads Chinese right, and defuses
spreadsheet formulas (a cell starting with =, @ or +/- not followed by a digit gets a leading apostrophe).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass

from yizhan.mail.contactcard import ContactCard
from yizhan.mail.vcard import decode_text_file

MAX_INPUT = 16 * 1024 * 1024
MAX_FIELD = 64 * 1024


@dataclass(frozen=True, slots=True)
class Column:
    """What a CSV column holds: a card field ("display_name", "email", "phone", "groups", ...) and a label."""

    field: str
    label: str = ""


_EXACT: dict[str, Column] = {}


def _define(field: str, label: str, *names: str) -> None:
    for name in names:
        _EXACT[_norm(name)] = Column(field, label)


def _norm(header: str) -> str:
    return re.sub(r"[\s_\-.:：()（）]+", "", header.strip().strip("\ufeff").casefold())


_define("display_name", "", "Name", "Display Name", "Full Name", "姓名", "名称", "显示名", "显示名称", "联系人")
_define("given_name", "", "First Name", "Given Name", "名", "名字")
_define("family_name", "", "Last Name", "Family Name", "Surname", "姓", "姓氏")
_define("organisation", "", "Company", "Organization", "Organisation", "Organization 1 - Name", "Organization Name",
        "公司", "单位", "公司名称", "组织")
# Outlook's "Title" is the honorific (Mr., Ms.), not the job: it is not mapped.
_define("title", "", "Job Title", "Organization 1 - Title", "Organization Title", "职务", "职位", "头衔")
_define("notes", "", "Notes", "Note", "附注", "备注", "说明")
_define("groups", "", "Categories", "Group Membership", "Labels", "Groups", "Group", "类别", "分组", "组", "群组")
_define("email", "", "E-mail", "Email", "E-mail Address", "Email Address", "Mail", "电子邮件", "电子邮件地址",
        "邮箱", "电子邮箱", "邮件地址", "Primary Email")
_define("email", "", "E-mail 2 Address", "E-mail 3 Address", "电子邮件 2 地址", "电子邮件 3 地址",
        "E-mail 1 - Value", "E-mail 2 - Value", "E-mail 3 - Value", "其他邮箱", "邮箱2")
_define("email", "work", "Work Email", "Business Email", "工作邮箱", "办公邮箱")
_define("email", "home", "Home Email", "个人邮箱", "私人邮箱")
_define("phone", "mobile", "Mobile Phone", "Mobile", "Cell Phone", "手机", "移动电话", "手机号码", "手机号")
_define("phone", "work", "Business Phone", "Business Phone 2", "Work Phone", "Company Main Phone", "商务电话",
        "商务电话 2", "办公电话", "工作电话", "公司电话")
_define("phone", "home", "Home Phone", "Home Phone 2", "住宅电话", "住宅电话 2", "家庭电话")
_define("phone", "fax", "Business Fax", "Home Fax", "商务传真", "住宅传真", "传真")
_define("phone", "", "Phone", "Telephone", "Primary Phone", "Other Phone", "电话", "其他电话", "主要电话",
        "Phone 1 - Value", "Phone 2 - Value", "Phone 3 - Value")

# Columns that describe another column (Google's "E-mail 1 - Type"); matched before the patterns below.
_IGNORED = re.compile(r"(type|label|类型|标签)$|displayname|显示名")


def map_header(header: str) -> Column | None:
    """The field a CSV column holds, from its header (English or Chinese), or None when it is not used."""
    key = _norm(header)
    if not key:
        return None
    if key in _EXACT:
        return _EXACT[key]
    if _IGNORED.search(key):
        return None
    if ("email" in key or "邮件" in key or "邮箱" in key) and "display" not in key and "显示" not in key:
        return Column("email", "")
    if any(word in key for word in ("phone", "mobile", "电话", "手机")):
        return Column("phone", "mobile" if ("mobile" in key or "手机" in key) else "")
    return None


def _sniff_delimiter(text: str) -> str:
    first = text.split("\n", 1)[0]
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _split_groups(value: str) -> list[str]:
    # Google writes "Friends ::: * myContacts"; Outlook separates categories with ";" or ","; Chinese files "、".
    parts = re.split(r":::|[;,、；，]", value)
    return [p.strip() for p in parts if p.strip() and not p.strip().startswith("* ")]


def _card(columns: list[Column | None], row: list[str]) -> ContactCard:
    fields: dict[str, str] = {}
    emails: list[tuple[str, str]] = []
    phones: list[tuple[str, str]] = []
    groups: list[str] = []
    for column, raw in zip(columns, row, strict=False):
        value = raw.strip()[:MAX_FIELD]
        if column is None or not value:
            continue
        if value[:1] == "'" and value[1:2] in ("=", "@", "+", "-"):
            # A formula defused by write_csv (or by a spreadsheet) is read back as the text it was.
            value = value[1:]
        if column.field == "email":
            # One cell may hold several addresses (Google: "a@x ::: b@y").
            for address in re.split(r":::|[;,；，\s]+", value):
                if address.strip():
                    emails.append((address.strip(), column.label))
        elif column.field == "phone":
            for number in value.split(":::"):
                if number.strip():
                    phones.append((number.strip(), column.label))
        elif column.field == "groups":
            groups.extend(_split_groups(value))
        elif column.field not in fields:
            fields[column.field] = value
    return ContactCard(emails=tuple(dict.fromkeys(emails)), phones=tuple(dict.fromkeys(phones)),
                       groups=tuple(dict.fromkeys(groups)), **fields)


def parse_csv(data: bytes | str) -> list[tuple[int, ContactCard]]:
    """(row number, card) for every data row with at least one non-empty cell; the header is row 1."""
    try:
        text = decode_text_file(data[:MAX_INPUT]) if isinstance(data, bytes) else data[:MAX_INPUT]
        text = text.lstrip("\ufeff")
        csv.field_size_limit(MAX_FIELD * 2)
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(text))
        rows = iter(reader)
        header = next(rows, None)
        if not header:
            return []
        columns = [map_header(h) for h in header]
        out: list[tuple[int, ContactCard]] = []
        for number, row in enumerate(rows, start=2):
            if any(cell.strip() for cell in row):
                out.append((number, _card(columns, row)))
        return out
    except Exception:
        return []


HEADERS = {
    "en": ["Name", "Last Name", "First Name", "E-mail Address", "E-mail 2 Address", "E-mail 3 Address",
           "Mobile Phone", "Business Phone", "Home Phone", "Company", "Job Title", "Notes", "Categories"],
    "zh": ["姓名", "姓", "名", "电子邮件地址", "电子邮件 2 地址", "电子邮件 3 地址", "移动电话", "商务电话",
           "住宅电话", "公司", "职务", "附注", "类别"],
}


def _safe(value: str) -> str:
    if value[:1] in ("=", "@", "\t", "\r") or (value[:1] in ("+", "-") and not value[1:2].isdigit()
                                                and value[1:2] not in (" ", "(")):
        return "'" + value
    return value


def write_csv(cards: Iterable[ContactCard], language: str = "en") -> str:
    """The cards as CSV with an Outlook-style header in English ("en") or Chinese ("zh"); up to three addresses
    and one phone of each kind (mobile, work, home; other phones go to the first free of these)."""
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(HEADERS.get(language, HEADERS["en"]))
    for card in cards:
        emails = [a for a, _ in card.emails[:3]] + [""] * (3 - min(3, len(card.emails)))
        phones: dict[str, str] = {}
        for number, label in card.phones:
            slot = label if label in ("mobile", "work", "home") and label not in phones else next(
                (s for s in ("mobile", "work", "home") if s not in phones), None)
            if slot:
                phones[slot] = number
        row = [card.name(), card.family_name, card.given_name, *emails, phones.get("mobile", ""),
               phones.get("work", ""), phones.get("home", ""), card.organisation, card.title, card.notes,
               ";".join(card.groups)]
        writer.writerow([_safe(v) for v in row])
    return "\ufeff" + out.getvalue()
