"""The conversation view of a folder pages by cursor over real HTTP: the rows fragment's "more" link carries a
cursor (no offset, so a deep page costs what the first does), and following it shows every conversation once."""

from __future__ import annotations

import re

from tests.web.conftest import Web
from tests.web.mail.helpers import deliver, folder_id


def _subjects(html: str) -> list[str]:
    return re.findall(r'<span class="subject">([^<]*)</span>', html)


async def test_conversations_page_by_cursor_and_each_appears_once(web: Web) -> None:
    for n in range(56):
        await deliver(web, 1, subject=f"topic {n:02d}", message_id=f"<t{n}@x.org>")
    for n in range(0, 56, 4):  # a reply makes an old conversation the newest one
        await deliver(web, 1, subject=f"Re: topic {n:02d}", message_id=f"<r{n}@x.org>", in_reply_to=f"<t{n}@x.org>")
    inbox = await folder_id(web, "INBOX")
    async with web.signed_in() as client:
        first = await client.get(f"/mail/f/{inbox}", params={"view": "threads"})
        assert first.status_code == 200
        more = re.search(r'<tr class="more" hx-get="([^"]+)"', first.text)
        assert more is not None
        link = more.group(1).replace("&amp;", "&")
        assert "cursor=" in link and "offset=" not in link
        rest = await client.get(link)
        assert rest.status_code == 200 and 'class="more"' not in rest.text
    shown = _subjects(first.text) + _subjects(rest.text)
    assert len(_subjects(first.text)) == 50
    # 56 conversations, each once; the 14 with a reply are shown by their reply.
    assert len(shown) == len(set(shown)) == 56
    assert sum(s.startswith("Re: ") for s in shown) == 14
