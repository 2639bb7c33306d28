"""vCard and CSV address-book files (mail/vcard.py, mail/contactcsv.py) and pinyin search keys (mail/pinyin.py)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from yizhan.mail.contactcard import ContactCard, compose_name
from yizhan.mail.contactcsv import map_header, parse_csv, write_csv
from yizhan.mail.pinyin import name_keys, normalise_key, sort_key
from yizhan.mail.vcard import fold_line, parse_vcards, write_vcards

ZHANG = ContactCard(display_name="张三", family_name="张", given_name="三", organisation="驿站; 研发部",
                    title="工程师", emails=(("zs@example.com", "work"), ("zhang@example.cn", "")),
                    phones=(("+86 138 0000 0000", "mobile"), ("010-1234", "work")),
                    notes="第一行\n第二行, 有逗号; 有分号 \\ 反斜杠" * 3, groups=("同事", "朋友"))


def test_vcard_round_trip_3_and_4() -> None:
    for version in ("3.0", "4.0"):
        text = write_vcards([ZHANG, ContactCard(display_name="Bob", emails=(("bob@example.org", ""),))], version)
        assert f"VERSION:{version}\r\n" in text
        cards = parse_vcards(text.encode("utf-8"))
        assert cards[0] == ZHANG
        assert cards[1].name() == "Bob" and cards[1].emails == (("bob@example.org", ""),)


def test_written_lines_are_folded_at_75_octets_without_splitting_characters() -> None:
    text = write_vcards([ZHANG])
    for line in text.split("\r\n"):
        assert len(line.encode("utf-8")) <= 75
    assert fold_line("注" * 100).replace("\r\n ", "") == "注" * 100


def test_vcard_21_quoted_printable_gbk_and_soft_breaks() -> None:
    data = (b"BEGIN:VCARD\r\nVERSION:2.1\r\n"
            b"N;CHARSET=GBK;ENCODING=QUOTED-PRINTABLE:=C0=EE;=CB=C4\r\n"
            b"FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=E6=9D=8E=E5=\r\n=9B=9B\r\n"
            b"TEL;CELL;PREF:13900000000\r\nTEL;WORK:021-555\r\n"
            b"item1.EMAIL;INTERNET:li@example.com\r\n"
            b"NOTE;ENCODING=QUOTED-PRINTABLE:line one=0D=0Aline two\r\n"
            b"PHOTO;ENCODING=BASE64;TYPE=JPEG:/9j/4AAQ\r\n AAAA\r\n"
            b"END:VCARD\r\n")
    (card,) = parse_vcards(data)
    assert (card.family_name, card.given_name, card.display_name) == ("李", "四", "李四")
    assert card.phones == (("13900000000", "mobile"), ("021-555", "work"))
    assert card.emails == (("li@example.com", ""),)
    assert card.notes == "line one\r\nline two"


def test_several_cards_gbk_file_folded_lines_and_a_card_cut_short() -> None:
    text = ("BEGIN:VCARD\nVERSION:3.0\nFN:王\n 五\nEMAIL;TYPE=INTERNET:w5@example.com\nEND:VCARD\n"
            "garbage line\n"
            "BEGIN:VCARD\nVERSION:3.0\nFN:赵六\nCATEGORIES:家人,同学\n")
    cards = parse_vcards(text.encode("gb18030"))
    assert [c.name() for c in cards] == ["王五", "赵六"]
    assert cards[1].groups == ("家人", "同学")


def test_vcard_pref_orders_addresses() -> None:
    data = ("BEGIN:VCARD\r\nVERSION:4.0\r\nFN:A\r\nEMAIL;PREF=2:second@example.com\r\n"
            "EMAIL;PREF=1:first@example.com\r\nEND:VCARD\r\n")
    assert [a for a, _ in parse_vcards(data)[0].emails] == ["first@example.com", "second@example.com"]


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000) | st.text(max_size=2000).map(lambda s: ("BEGIN:VCARD\n" + s).encode()))
def test_readers_never_raise(data: bytes) -> None:
    parse_vcards(data)
    parse_csv(data)


def test_chinese_outlook_csv_in_gbk() -> None:
    header = "名,姓,电子邮件地址,电子邮件 2 地址,移动电话,商务电话,公司,职务,附注,类别\r\n"
    rows = ("三,张,zs@example.com,zs2@example.com,13800000000,010-1,驿站,经理,备注,同事;朋友\r\n"
            ",,,,,,,,,\r\n"
            "四,李,li4@example.com,,,,,,,\r\n")
    parsed = parse_csv((header + rows).encode("gbk"))
    assert [n for n, _ in parsed] == [2, 4]
    card = parsed[0][1]
    assert card.name() == "张三"
    assert card.emails == (("zs@example.com", ""), ("zs2@example.com", ""))
    assert card.phones == (("13800000000", "mobile"), ("010-1", "work"))
    assert (card.organisation, card.title, card.notes, card.groups) == ("驿站", "经理", "备注", ("同事", "朋友"))


def test_google_and_english_outlook_headers() -> None:
    google = ("Name,Given Name,Family Name,Group Membership,E-mail 1 - Type,E-mail 1 - Value,Phone 1 - Type,"
              "Phone 1 - Value,Organization 1 - Name\n"
              "Alice Wong,Alice,Wong,Friends ::: * myContacts,* Work,alice@example.com ::: a2@example.com,Mobile,"
              "+1 555,ACME\n")
    (_, card), = parse_csv(google.encode())
    assert card.name() == "Alice Wong"
    assert card.emails == (("alice@example.com", ""), ("a2@example.com", ""))
    assert card.phones == (("+1 555", ""),)
    assert card.groups == ("Friends",) and card.organisation == "ACME"
    outlook = ("\ufeffFirst Name;Last Name;E-mail Address;E-mail Display Name;Title\n"
               "Bob;Smith;bob@x.org;Bob (bob@x.org);Mr.\n")
    (_, card), = parse_csv(outlook.encode("utf-8"))
    assert card.name() == "Bob Smith" and card.title == ""
    assert map_header("E-mail 2 - Type") is None


def test_foxmail_tab_separated_utf16() -> None:
    text = "姓名\t电子邮件地址\t手机\t备注\r\n钱七\tqian@example.com\t139\t好友\r\n"
    (_, card), = parse_csv(b"\xff\xfe" + text.encode("utf-16-le"))
    assert (card.name(), card.emails, card.notes) == ("钱七", (("qian@example.com", ""),), "好友")


def test_csv_export_round_trips_and_defuses_formulas() -> None:
    card = ContactCard(display_name="=HYPERLINK(\"x\")", emails=(("a@example.com", ""),),
                       phones=(("+86 1", "mobile"),), notes="@SUM(A1)")
    for language in ("en", "zh"):
        text = write_csv([ZHANG, card], language)
        assert text.startswith("\ufeff")
        assert "\"'=HYPERLINK" in text and "\"'@SUM" in text and "\"+86 1\"" in text
        parsed = [c for _, c in parse_csv(text.encode("utf-8"))]
        assert parsed[0].name() == "张三" and parsed[0].emails == (("zs@example.com", ""), ("zhang@example.cn", ""))
        assert parsed[0].groups == ZHANG.groups
        assert parsed[1].display_name == card.display_name and parsed[1].notes == "@SUM(A1)"


def test_pinyin_keys_initials_and_surname_readings() -> None:
    assert ("pinyin", "zs") in name_keys("张三") and ("pinyin", "zhangsan") in name_keys("张三")
    keys = {k for _, k in name_keys("曾小明")}
    assert {"zxm", "zengxiaoming", "cxm", "小明", "xiaoming"} <= keys
    assert {"dtf", "stf"} <= {k for _, k in name_keys("单田芳")}
    assert ("name", "wong") in name_keys("Alice Wong")
    assert normalise_key("  ＡＢＣ  Def ") == "abc def"
    assert sorted(["Zoe", "张三", "Yvonne", "阿明"], key=sort_key) == ["阿明", "Yvonne", "张三", "Zoe"]
    assert compose_name("张", "三") == "张三" and compose_name("Wong", "Alice") == "Alice Wong"
