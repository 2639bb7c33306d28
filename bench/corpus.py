"""A reproducible, realistic mail corpus for benchmarks: half Chinese, half English, all MIME shapes.

Importable (`generate`, `to_mbox_entry`, `write_mbox`, `CHINESE_WORDS`, `ENGLISH_WORDS`, `SENDERS`) and
runnable:

    python bench/corpus.py --count 10000 --seed 1 --out corpus.mbox

Invariants:

* Output depends only on (count, seed): the same arguments give the same bytes, on any machine, because every
  random choice comes from one `random.Random(seed)` and nothing reads the clock or the locale.
* `generate` yields raw RFC 5322 messages with CRLF line endings, 7-bit clean headers (RFC 2047 encoded words,
  RFC 2231 parameters), lines under 998 octets, and bodies in UTF-8, GB2312 or GBK, as 7bit, 8bit,
  quoted-printable or base64. Every message parses with `email.parser`.
* Words are drawn with Zipf-like weights in list order, so `CHINESE_WORDS[0]` and `ENGLISH_WORDS[0]` are the most
  frequent and the end of each list is rare: a search benchmark can pick words of known relative frequency.
* About 30% of messages are replies (Re: subject, In-Reply-To, References) to earlier messages in the corpus.
* The mbox written is mboxrd with LF line endings: each message follows a `From sender date` line, lines
  matching `^>*From ` get one more `>`, and a blank line ends each message.

Messages are built from string templates rather than `email.mime`, which is several times slower.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import html
import itertools
import json
import random
import re
import sys
import time
import urllib.parse
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import BinaryIO

__all__ = [
    "CHINESE_WORDS",
    "DOMAINS",
    "ENGLISH_WORDS",
    "SENDERS",
    "Record",
    "generate",
    "generate_records",
    "to_mbox_entry",
    "write_mbox",
]

# Common Chinese business words and phrases, roughly most frequent first.
CHINESE_WORDS: list[str] = (
    "会议 项目 报告 通知 客户 北京 上海 预算 合同 审批 工作 公司 部门 安排 时间 问题 方案 需要 确认 计划 "
    "进度 材料 文件 邮件 领导 同事 讨论 市场 销售 财务 产品 服务 技术 管理 质量 数据 系统 流程 资料 附件 "
    "深圳 广州 杭州 成都 南京 武汉 西安 天津 重庆 苏州 香港 台北 新加坡 东京 "
    "季度 年度 月度 总结 目标 任务 负责 协调 沟通 反馈 意见 建议 修改 更新 提交 完成 开始 结束 延期 调整 "
    "费用 发票 报销 付款 收款 采购 供应商 订单 库存 物流 发货 交付 验收 合作 伙伴 签署 条款 协议 谈判 报价 "
    "招聘 面试 培训 员工 人事 考勤 绩效 薪资 福利 假期 出差 机票 酒店 会议室 视频会议 电话会议 日程 议程 纪要 "
    "研发 测试 上线 发布 版本 需求 设计 开发 部署 服务器 网络 安全 故障 维护 升级 账号 密码 权限 平台 接口 "
    "董事会 股东 投资 融资 风险 审计 合规 法务 政策 规定 制度 标准 规范 指标 分析 统计 调研 评估 考核 "
    "客服 投诉 售后 满意度 渠道 品牌 推广 活动 展会 宣传 广告 媒体 新闻 发布会 合作方 代理商 经销商 "
    "紧急 重要 尽快 及时 明天 今天 下周 本周 上午 下午 周一 周五 月底 年底 截止 日期 "
    "谢谢 辛苦 收到 请查收 请审阅 请批准 已处理 待确认 跟进 落实 汇报 请示 批复 同意 "
    "人民币 美元 金额 成本 利润 收入 支出 税费 账单 对账 核算 预测 增长 下降 "
    "办公室 总部 分公司 子公司 团队 小组 经理 总监 主管 助理 专员 顾问 工程师 设计师 "
    "春节 国庆 中秋 元旦 周年 庆典 年会 团建 聚餐 "
    "备份 迁移 存储 云服务 数据库 监控 日志 告警 性能 优化 "
    "知识产权 专利 商标 保密 授权 许可 续签 终止 违约 赔偿 仲裁"
).split()

# Common English business words, roughly most frequent first.
ENGLISH_WORDS: list[str] = (
    "meeting project report please team update review budget client contract schedule week today "
    "tomorrow thanks attached document deadline proposal question status plan next call follow "
    "approval office manager customer sales market product service support issue change draft final "
    "quarter annual monthly summary target task owner feedback comment suggestion revision submit "
    "complete start finish delay adjust cost invoice expense payment receipt purchase vendor order "
    "inventory shipping delivery acceptance partner agreement terms negotiation quote pricing discount "
    "hiring interview training employee staff attendance performance salary benefits holiday travel "
    "flight hotel room conference video agenda minutes notes action items decision priority urgent "
    "important soon timeline milestone launch release version requirement design development deployment "
    "server network security outage maintenance upgrade account password access platform interface "
    "board shareholder investment funding risk audit compliance legal policy regulation standard "
    "metric analysis statistics research assessment evaluation complaint satisfaction channel brand "
    "campaign event exhibition marketing advertising media press announcement distributor reseller "
    "revenue profit margin forecast growth decline currency dollar amount balance reconciliation "
    "headquarters branch subsidiary group director lead assistant specialist consultant engineer "
    "designer analyst architect coordinator backup migration storage cloud database monitoring "
    "logging alert latency throughput optimization patent trademark confidential license renewal "
    "termination breach compensation arbitration workshop webinar presentation slides spreadsheet "
    "dashboard portal ticket escalation incident postmortem roadmap backlog sprint standup retrospective "
    "onboarding offboarding handover checklist template guideline procedure workflow pipeline integration "
    "testing staging production rollback hotfix patch feature bugfix regression benchmark capacity "
    "procurement logistics warehouse freight customs tariff export import supplier manufacturer factory "
    "sample prototype specification drawing certificate inspection warranty refund replacement "
    "reminder confirmation invitation registration cancellation reschedule availability calendar "
    "beijing shanghai shenzhen singapore london tokyo berlin toronto sydney chicago "
    "january february march april may june july august september october november december "
    "monday tuesday wednesday thursday friday morning afternoon evening "
    "quarterly yearly weekly daily regional global domestic international strategic operational "
    "financial technical commercial administrative internal external preliminary detailed revised "
    "approved pending rejected scheduled completed cancelled postponed confirmed tentative "
    "alpha beta gamma delta omega phoenix orion atlas titan nebula zephyr aurora horizon summit "
    "keystone lighthouse meridian cascade harbor granite willow falcon sparrow"
).split()

DOMAINS: list[str] = [
    "huaxin-tech.example",
    "dongfang-trade.example",
    "jinghua-group.example",
    "shenghai-logistics.example",
    "zhongyuan-bank.example",
    "tianfu-software.example",
    "xinghe-media.example",
    "changjiang-energy.example",
    "mail.pku-alumni.example",
    "yunduan-cloud.example",
    "acme-corp.example",
    "globex.example",
    "initech.example",
    "umbrella-health.example",
    "stark-industries.example",
    "wayne-enterprises.example",
    "northwind.example",
    "contoso.example",
    "fabrikam.example",
    "lists.opensource.example",
]

_SURNAMES = [
    ("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"), ("杨", "yang"),
    ("赵", "zhao"), ("黄", "huang"), ("周", "zhou"), ("吴", "wu"), ("徐", "xu"), ("孙", "sun"),
    ("胡", "hu"), ("朱", "zhu"), ("高", "gao"), ("林", "lin"), ("何", "he"), ("郭", "guo"),
    ("马", "ma"), ("罗", "luo"),
]  # fmt: skip
_GIVEN = [
    ("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"), ("丽", "li"),
    ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("洋", "yang"), ("勇", "yong"), ("艳", "yan"),
    ("杰", "jie"), ("涛", "tao"), ("明", "ming"), ("超", "chao"), ("秀英", "xiuying"), ("晓东", "xiaodong"),
    ("建华", "jianhua"), ("志强", "zhiqiang"), ("海燕", "haiyan"), ("雪梅", "xuemei"), ("俊杰", "junjie"),
    ("子涵", "zihan"),
]  # fmt: skip
_FIRST = (
    "James Mary John Patricia Robert Jennifer Michael Linda David Elizabeth William Barbara Richard Susan "
    "Joseph Jessica Thomas Sarah Charles Karen Daniel Nancy Matthew Lisa Anthony Betty Mark Sandra Alice Bob"
).split()
_LAST = (
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Wilson "
    "Anderson Thomas Taylor Moore Jackson Martin Lee Thompson White Harris Clark Lewis Walker Young Wong"
).split()


def _make_senders() -> list[tuple[str, str]]:
    """200 distinct (display name, address) pairs: 100 Chinese names on the first 10 domains, 100 English."""
    rng = random.Random(20240104)
    senders: list[tuple[str, str]] = []
    seen: set[str] = set()
    while len(senders) < 100:
        (sh, sp), (gh, gp) = rng.choice(_SURNAMES), rng.choice(_GIVEN)
        addr = f"{gp}.{sp}@{rng.choice(DOMAINS[:10])}"
        if addr not in seen:
            seen.add(addr)
            senders.append((sh + gh, addr))
    while len(senders) < 200:
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        addr = f"{first.lower()}.{last.lower()}@{rng.choice(DOMAINS[10:])}"
        if addr not in seen:
            seen.add(addr)
            senders.append((f"{first} {last}", addr))
    return senders


# (display name, address) for every sender; the first 100 are Chinese, the last 100 English.
SENDERS: list[tuple[str, str]] = _make_senders()

_ZH_FILLERS = ["的", "和", "与", "及", "在", "对", "关于", "请", "已", "将", "需", "由", "按", "为"]
_ZH_ENDS = ["。", "。", "。", "，", "；", "！", "？"]
_EN_FILLERS = ["the", "a", "of", "to", "and", "for", "on", "with", "in", "by", "from", "as", "is", "will", "our"]
_EN_OPENERS = ["From our side,", "From the latest numbers,", "From what I understand,", "From"]

_WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
_START = datetime(2021, 1, 1, tzinfo=UTC)
_SPAN_SECONDS = 3 * 365 * 86400
_CST = timezone(timedelta(hours=8))
_EN_ZONES = [timezone(timedelta(hours=-5)), timezone(timedelta(hours=0)), timezone(timedelta(hours=1))]


def _zipf_cum(n: int, s: float = 1.0) -> list[float]:
    """Cumulative Zipf weights for `n` items in order, for `random.choices(cum_weights=...)`."""
    return list(itertools.accumulate(1.0 / (i + 1) ** s for i in range(n)))


_ZH_CUM = _zipf_cum(len(CHINESE_WORDS), 0.9)
_EN_CUM = _zipf_cum(len(ENGLISH_WORDS), 0.9)
_SENDER_CUM = _zipf_cum(len(SENDERS), 0.5)


@dataclass(frozen=True, slots=True)
class Record:
    """One generated message with what an mbox `From ` line needs."""

    sender: str
    date: datetime
    raw: bytes


@dataclass(slots=True)
class _Sent:
    """What a later reply needs to know about an earlier message."""

    msgid: str
    subject: str
    references: list[str]
    when: datetime
    zh: bool
    sender: tuple[str, str]
    first_lines: list[str]


def _sentence_pools(rng: random.Random) -> tuple[list[str], list[str]]:
    """Pools of Chinese and English sentences that message bodies are assembled from."""
    zh: list[str] = []
    for _ in range(3000):
        words = rng.choices(CHINESE_WORDS, cum_weights=_ZH_CUM, k=rng.randint(3, 9))
        parts = [w + (rng.choice(_ZH_FILLERS) if rng.random() < 0.45 else "") for w in words]
        zh.append("".join(parts) + rng.choice(_ZH_ENDS))
    en: list[str] = []
    for _ in range(3000):
        words = rng.choices(ENGLISH_WORDS, cum_weights=_EN_CUM, k=rng.randint(5, 14))
        out: list[str] = []
        for w in words:
            out.append(w)
            if rng.random() < 0.5:
                out.append(rng.choice(_EN_FILLERS))
        if rng.random() < 0.03:
            out.insert(0, rng.choice(_EN_OPENERS))
        text = " ".join(out)
        en.append(text[0].upper() + text[1:] + rng.choice([".", ".", ".", "?", "!"]))
    return zh, en


def _lines(sentences: list[str], width: int, joiner: str) -> list[str]:
    """Sentences packed into lines of about `width` characters, breaking only between sentences."""
    lines: list[str] = []
    current = ""
    for sentence in sentences:
        current = current + joiner + sentence if current else sentence
        if len(current) >= width:
            lines.append(current)
            current = ""
    if current:
        lines.append(current)
    return lines


def _encoded_words(text: str, charset: str, mode: str) -> str:
    """`text` as RFC 2047 encoded words (mode "B" or "Q"), each at most 75 characters, folded with CRLF SP."""
    prefix = f"=?{charset.upper()}?{mode}?"
    room = 75 - len(prefix) - 2
    # The budget is in raw bytes for B (4 characters per 3 bytes) and in encoded characters for Q.
    budget = room // 4 * 3 if mode == "B" else room
    words: list[str] = []
    start = used = 0
    for pos, ch in enumerate(text):
        if mode == "B":
            cost = 1 if ch.isascii() else len(ch.encode(charset))
        else:
            cost = 1 if ch.isascii() and (ch.isalnum() or ch in " !*+-/") else 3 * len(ch.encode(charset))
        if used + cost > budget:
            words.append(_encoded_word(prefix, text[start:pos], charset, mode))
            start, used = pos, 0
        used += cost
    words.append(_encoded_word(prefix, text[start:], charset, mode))
    return "\r\n ".join(words)


def _encoded_word(prefix: str, text: str, charset: str, mode: str) -> str:
    """One RFC 2047 encoded word."""
    data = text.encode(charset)
    body = base64.b64encode(data).decode("ascii") if mode == "B" else _q_encode(data)
    return f"{prefix}{body}?="


_Q_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!*+-/")
_Q_TABLE = ["_" if b == 0x20 else chr(b) if b in _Q_SAFE else f"={b:02X}" for b in range(256)]


def _q_encode(data: bytes) -> str:
    """The RFC 2047 Q encoding of bytes."""
    return "".join([_Q_TABLE[b] for b in data])


def _header_text(text: str, charset: str, rng: random.Random) -> str:
    """A header value: plain when ASCII, otherwise encoded words in B (70%) or Q form."""
    if text.isascii():
        return text
    try:
        text.encode(charset)
    except UnicodeEncodeError:
        charset = "utf-8"
    return _encoded_words(text, charset, "B" if rng.random() < 0.7 else "Q")


def _address(name: str, addr: str, charset: str, rng: random.Random) -> str:
    """One mailbox for an address header."""
    if name.isascii():
        return f'"{name}" <{addr}>' if rng.random() < 0.3 else f"{name} <{addr}>"
    return f"{_header_text(name, charset, rng)} <{addr}>"


def _date_header(when: datetime) -> str:
    """An RFC 5322 date in the datetime's own zone."""
    offset = when.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    zone = f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"
    return (
        f"{_WEEKDAYS[when.weekday()]}, {when.day:02d} {_MONTHS[when.month - 1]} {when.year} "
        f"{when.hour:02d}:{when.minute:02d}:{when.second:02d} {zone}"
    )


def _body_part(text_lines: list[str], subtype: str, charset: str, cte: str, html_title: str = "") -> tuple[str, bytes]:
    """Headers and encoded body of one text part, from lines of text."""
    if subtype == "html":
        paragraphs = "<p>" + html.escape("\n".join(text_lines)).replace("\n", "</p>\n<p>") + "</p>\n"
        text = (
            f'<html><head><meta http-equiv="Content-Type" content="text/html; charset={charset}">'
            f"<title>{html.escape(html_title)}</title></head>\n<body>\n{paragraphs}</body></html>\n"
        )
    else:
        text = "\n".join(text_lines) + "\n"
    data = text.encode(charset)
    if cte == "base64":
        body = base64.encodebytes(data)
    elif cte == "quoted-printable":
        body = binascii.b2a_qp(data, istext=True)
    else:
        body = data
    headers = f"Content-Type: text/{subtype}; charset={charset}\r\nContent-Transfer-Encoding: {cte}\r\n"
    return headers, body.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


_ATTACHMENTS_ZH = ["季度报告", "合同草案", "预算明细", "会议纪要", "项目计划", "发票扫描件", "客户名单", "审批单"]
_ATTACHMENTS_EN = ["report", "contract-draft", "budget", "minutes", "project-plan", "invoice", "slides", "notes"]
_KINDS = [
    ("pdf", "application/pdf", b"%PDF-1.4\n"),
    ("png", "image/png", b"\x89PNG\r\n\x1a\n"),
    ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", b"PK\x03\x04"),
    ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", b"PK\x03\x04"),
    ("csv", "text/csv", b""),
]


def _attachment(rng: random.Random, zh: bool, size: int, when: datetime) -> tuple[str, bytes]:
    """Headers and base64 body of one attachment, with a Chinese RFC 2231 or RFC 2047 name when `zh`."""
    ext, ctype, magic = rng.choice(_KINDS)
    stem = rng.choice(_ATTACHMENTS_ZH if zh else _ATTACHMENTS_EN)
    filename = f"{stem}-{when.year}Q{(when.month - 1) // 3 + 1}.{ext}"
    if ext == "csv":
        n_rows = max(1, size // 30)
        names = rng.choices(CHINESE_WORDS if zh else ENGLISH_WORDS, k=n_rows)
        amounts = rng.choices(range(100, 100_000), k=n_rows)
        day = when.date().isoformat()
        rows = ["name,amount,date", *(f"{n},{a},{day}" for n, a in zip(names, amounts, strict=True))]
        data = ("\r\n".join(rows) + "\r\n").encode("utf-8")
        ctype += "; charset=utf-8"
    else:
        data = magic + rng.randbytes(size)
    if filename.isascii():
        params = f'; name="{filename}"', f'; filename="{filename}"'
    elif rng.random() < 0.5:
        encoded = urllib.parse.quote(filename.encode("utf-8"), safe="")
        params = f"; name*=UTF-8''{encoded}", f";\r\n filename*=UTF-8''{encoded}"
    else:
        word = _encoded_words(filename, "utf-8", "B")
        params = f';\r\n name="{word}"', f';\r\n filename="{word}"'
    headers = (
        f"Content-Type: {ctype}{params[0]}\r\n"
        f"Content-Disposition: attachment{params[1]}\r\n"
        "Content-Transfer-Encoding: base64\r\n"
    )
    return headers, base64.encodebytes(data).replace(b"\n", b"\r\n")


def _multipart(subtype: str, boundary: str, parts: list[tuple[str, bytes]]) -> tuple[str, bytes]:
    """Headers and body of a multipart entity made of (headers, body) parts."""
    chunks: list[bytes] = []
    for headers, body in parts:
        chunks.append(f"--{boundary}\r\n{headers}\r\n".encode("ascii"))
        chunks.append(body)
        if not body.endswith(b"\r\n"):
            chunks.append(b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode("ascii"))
    headers = f'Content-Type: multipart/{subtype};\r\n boundary="{boundary}"\r\n'
    return headers, b"".join(chunks)


def generate_records(count: int, seed: int = 1) -> Iterator[Record]:
    """Yield `count` messages with their envelope sender and date; deterministic in (count, seed)."""
    rng = random.Random(seed)
    zh_pool, en_pool = _sentence_pools(rng)
    history: list[_Sent] = []
    for i in range(count):
        parent = history[-1 - rng.randrange(min(len(history), 400))] if history and rng.random() < 0.3 else None
        zh = parent.zh if parent is not None and rng.random() < 0.9 else rng.random() < 0.5
        sender = rng.choices(SENDERS, cum_weights=_SENDER_CUM)[0]
        if parent is not None:
            when = parent.when + timedelta(seconds=rng.randint(300, 3 * 86400))
            base_subject = re.sub(r"^((Re|回复|答复)\s*[:：]\s*)+", "", parent.subject)
            subject = ("回复: " if zh and rng.random() < 0.15 else "Re: ") + base_subject
            to = [parent.sender] if parent.sender != sender else [rng.choice(SENDERS)]
        else:
            when = _START + timedelta(seconds=rng.randrange(_SPAN_SECONDS))
            if zh:
                words = rng.choices(CHINESE_WORDS, cum_weights=_ZH_CUM, k=rng.randint(2, 4))
                subject = rng.choice(["关于{}的通知", "{}", "【重要】{}", "{}（请审阅）", "转发：{}"]).format(
                    "".join(words)
                )
            else:
                words = rng.choices(ENGLISH_WORDS, cum_weights=_EN_CUM, k=rng.randint(3, 7))
                subject = " ".join(words).capitalize()
                subject = rng.choice(["{}", "[Action required] {}", "FW: {}", "{} - Q{}"]).format(
                    subject, rng.randint(1, 4)
                )
            to = rng.sample(SENDERS, rng.randint(1, 3))
        when = when.astimezone(_CST if zh else rng.choice(_EN_ZONES))
        cc = rng.sample(SENDERS, rng.randint(1, 2)) if rng.random() < 0.3 else []

        # Charsets: Chinese mail in UTF-8 or GB2312/GBK, English mostly ASCII.
        if zh:
            charset = "utf-8" if rng.random() < 0.6 else rng.choice(["gb2312", "gbk"])
            cte = rng.choices(["base64", "quoted-printable", "8bit"], weights=[5, 3, 2])[0]
            pool, width, joiner = zh_pool, 40, ""
            n_sentences = rng.randint(20, 90)
        else:
            charset = "us-ascii" if rng.random() < 0.7 else "utf-8"
            cte = "7bit" if charset == "us-ascii" else "quoted-printable"
            pool, width, joiner = en_pool, 70, " "
            n_sentences = rng.randint(15, 70)
        header_charset = "utf-8" if charset in ("us-ascii", "utf-8") else "gb2312"
        sentences = rng.choices(pool, k=n_sentences)
        lines = _lines(sentences, width, joiner)
        # Paragraph breaks every few lines, a greeting and a signature.
        body_lines: list[str] = [("您好，" if zh else f"Hi {to[0][0].split()[0]},"), ""]
        for j, line in enumerate(lines):
            body_lines.append(line)
            if j % 4 == 3:
                body_lines.append("")
        if parent is not None:
            intro = (
                f"在 {_date_header(parent.when)}，{parent.sender[0]} 写道："
                if zh
                else (f"On {_date_header(parent.when)}, {parent.sender[0]} wrote:")
            )
            body_lines += ["", intro] + ["> " + line for line in parent.first_lines]
        body_lines += ["", "--", sender[0], sender[1]]

        # A reply may quote the other language or a Chinese signature may end English mail: widen the charset.
        probe = "\n".join(body_lines) + subject
        for candidate in (charset, "gbk" if charset == "gb2312" else "utf-8", "utf-8"):
            try:
                probe.encode(candidate)
            except UnicodeEncodeError:
                continue
            if candidate != charset:
                charset = candidate
                cte = "quoted-printable" if cte == "7bit" else cte
            break

        # The MIME shape: plain 40%, HTML only 10%, alternative 30%, mixed with attachments 20%.
        shape = rng.random()
        boundary = f"----=_Part_{seed}_{i}_{rng.getrandbits(32):08x}"
        if shape < 0.4:
            headers, body = _body_part(body_lines, "plain", charset, cte)
        elif shape < 0.5:
            headers, body = _body_part(body_lines, "html", charset, cte, subject)
        else:
            alternative = _multipart(
                "alternative",
                boundary + "_alt",
                [
                    _body_part(body_lines, "plain", charset, cte),
                    _body_part(body_lines, "html", charset, cte, subject),
                ],
            )
            if shape < 0.8:
                headers, body = alternative
            else:
                text_part = alternative if rng.random() < 0.5 else _body_part(body_lines, "plain", charset, cte)
                attachments = [
                    _attachment(rng, zh and rng.random() < 0.8, rng.randint(500, 6000), when)
                    for _ in range(rng.randint(1, 3))
                ]
                if rng.random() < 0.03:
                    attachments.append(_attachment(rng, zh, rng.randint(60_000, 150_000), when))
                headers, body = _multipart("mixed", boundary, [text_part, *attachments])

        domain = sender[1].split("@", 1)[1]
        msgid = f"<{when.strftime('%Y%m%d%H%M%S')}.{i:x}.{seed}@{domain}>"
        head = [
            f"Return-Path: <{sender[1]}>",
            f"Received: from mx.{domain} (mx.{domain} [192.0.2.{i % 250 + 1}])\r\n"
            f"\tby mail.yizhan.example with ESMTPS id {rng.getrandbits(48):012X}\r\n"
            f"\tfor <{to[0][1]}>; {_date_header(when)}",
            f"From: {_address(sender[0], sender[1], header_charset, rng)}",
            "To: " + ",\r\n ".join(_address(n, a, header_charset, rng) for n, a in to),
        ]
        if cc:
            head.append("Cc: " + ",\r\n ".join(_address(n, a, header_charset, rng) for n, a in cc))
        head += [
            f"Subject: {_header_text(subject, header_charset, rng)}",
            f"Date: {_date_header(when)}",
            f"Message-ID: {msgid}",
        ]
        references: list[str] = []
        if parent is not None:
            references = [*parent.references, parent.msgid][-10:]
            head.append(f"In-Reply-To: {parent.msgid}")
            head.append("References: " + "\r\n ".join(references))
        head += ["MIME-Version: 1.0", "X-Mailer: " + rng.choice(["Foxmail 7.2", "Outlook 16.0", "Thunderbird 115"])]
        raw = ("\r\n".join(head) + "\r\n" + headers + "\r\n").encode("ascii") + body

        history.append(_Sent(msgid, subject, references, when, zh, sender, lines[:3]))
        yield Record(sender=sender[1], date=when, raw=raw)


def generate(count: int, seed: int = 1) -> Iterator[bytes]:
    """Yield `count` raw RFC 5322 messages (CRLF line endings); the same (count, seed) gives the same bytes."""
    for record in generate_records(count, seed):
        yield record.raw


_FROM_LINE = re.compile(rb"^(>*From )", re.MULTILINE)


def to_mbox_entry(raw: bytes, sender: str = "MAILER-DAEMON", when: datetime | None = None) -> bytes:
    """One mboxrd entry: a `From ` line, the message with LF endings and `>*From ` lines quoted, a blank line."""
    when = (when or datetime(2024, 1, 4, 12, 0, tzinfo=UTC)).astimezone(UTC)
    stamp = f"{_WEEKDAYS[when.weekday()]} {_MONTHS[when.month - 1]} {when.day:2d} {when:%H:%M:%S} {when.year}"
    body = raw.replace(b"\r\n", b"\n")
    if b"From " in body:
        body = _FROM_LINE.sub(rb">\1", body)
    if not body.endswith(b"\n"):
        body += b"\n"
    return f"From {sender} {stamp}\n".encode("ascii") + body + b"\n"


def write_mbox(records: Iterable[Record], out: BinaryIO) -> tuple[int, int]:
    """Write records as mboxrd to a binary file; returns (messages, bytes written)."""
    count = size = 0
    for record in records:
        entry = to_mbox_entry(record.raw, record.sender, record.date)
        out.write(entry)
        count += 1
        size += len(entry)
    return count, size


def main(argv: list[str] | None = None) -> int:
    """Command line entry point: write an mbox and print one JSON line of statistics."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", required=True, help="mbox file to write, or - for standard output")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    if args.out == "-":
        count, size = write_mbox(generate_records(args.count, args.seed), sys.stdout.buffer)
    else:
        with open(args.out, "wb") as out:
            count, size = write_mbox(generate_records(args.count, args.seed), out)
    seconds = round(time.perf_counter() - started, 3)
    print(
        json.dumps({"count": count, "bytes": size, "seconds": seconds}),
        file=sys.stderr if args.out == "-" else sys.stdout,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
