"""Downloads: one part (RFC 6266 filename*, nosniff, HTML and SVG only as octet-stream downloads, images and PDF
previewable inline), all attachments as a zip, the raw message (.eml) and its source page."""

from __future__ import annotations

import io
import zipfile
from urllib.parse import quote

from tests.web.conftest import Web
from tests.web.read.support import PDF, PNG, chinese_message, deliver, html_message


def disposition_name(value: str) -> str:
    return value.split("filename*=UTF-8''", 1)[1]


async def test_part_downloads_and_previews(web: Web) -> None:
    folder_id, uid = await deliver(web, chinese_message())
    base = f"/mail/part/{folder_id}/{uid}"
    async with web.signed_in() as client:
        pdf = await client.get(f"{base}/2")
        pdf_inline = await client.get(f"{base}/2", params={"inline": "1"})
        png_inline = await client.get(f"{base}/3", params={"inline": "1"})
        png_download = await client.get(f"{base}/3", params={"download": "1"})
        page = await client.get(f"{base}/4", params={"inline": "1"})
        svg = await client.get(f"{base}/5", params={"inline": "1"})
        body_part = await client.get(f"{base}/1")
        missing = await client.get(f"{base}/9")
        bad_path = await client.get(f"{base}/1..2")
    # RFC 6266: attachment, an ASCII fallback and the UTF-8 name in filename*.
    assert pdf.status_code == 200 and pdf.content == PDF
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"].startswith('attachment; filename="')
    assert disposition_name(pdf.headers["content-disposition"]) == quote("季度报告.pdf", safe="")
    for reply in (pdf, pdf_inline, png_inline, png_download, page, svg, body_part):
        assert reply.headers["x-content-type-options"] == "nosniff"
        assert "default-src 'none'" in reply.headers["content-security-policy"]
    # Previews: PDF inline for the browser's viewer (not sandboxed: Chromium refuses a sandboxed PDF viewer), image
    # inline and sandboxed.
    assert pdf_inline.headers["content-disposition"].startswith("inline;")
    assert "sandbox" not in pdf_inline.headers["content-security-policy"]
    assert "frame-ancestors 'self'" in pdf_inline.headers["content-security-policy"]
    assert png_inline.content == PNG and png_inline.headers["content-type"] == "image/png"
    assert png_inline.headers["content-disposition"].startswith("inline;")
    assert "sandbox" in png_inline.headers["content-security-policy"]
    assert disposition_name(png_inline.headers["content-disposition"]) == quote("照片.png", safe="")
    assert png_download.headers["content-disposition"].startswith("attachment;")
    # HTML and SVG are never served as what they are, never inline.
    for reply, name in ((page, "页面.html"), (svg, "logo.svg")):
        assert reply.status_code == 200
        assert reply.headers["content-type"] == "application/octet-stream"
        assert reply.headers["content-disposition"].startswith("attachment;")
        assert disposition_name(reply.headers["content-disposition"]) == quote(name, safe="")
        assert "sandbox" in reply.headers["content-security-policy"]
    # The text body as a download keeps its charset label, as text/plain.
    assert body_part.headers["content-type"] == "text/plain; charset=gb2312"
    assert body_part.headers["content-disposition"].startswith("attachment;")
    assert missing.status_code == 404 and bad_path.status_code == 404


async def test_download_all_as_zip(web: Web) -> None:
    folder_id, uid = await deliver(web, chinese_message())
    async with web.signed_in() as client:
        page = await client.get(f"/mail/read/{folder_id}/{uid}")
        reply = await client.get(f"/mail/zip/{folder_id}/{uid}")
    assert f'href="/mail/zip/{folder_id}/{uid}"' in page.text
    assert reply.status_code == 200 and reply.headers["content-type"] == "application/zip"
    assert reply.headers["content-disposition"].startswith("attachment;")
    assert disposition_name(reply.headers["content-disposition"]).endswith(".zip")
    with zipfile.ZipFile(io.BytesIO(reply.content)) as archive:
        names = archive.namelist()
        assert names == ["季度报告.pdf", "照片.png", "页面.html", "logo.svg"]
        assert archive.read("季度报告.pdf") == PDF and archive.read("照片.png") == PNG


async def test_raw_download_and_source_page(web: Web) -> None:
    raw = html_message("http://images.example.net/x.png")
    folder_id, uid = await deliver(web, raw)
    async with web.signed_in() as client:
        eml = await client.get(f"/mail/eml/{folder_id}/{uid}")
        source = await client.get(f"/mail/source/{folder_id}/{uid}")
    assert eml.status_code == 200 and eml.content == raw
    assert eml.headers["content-type"] == "message/rfc822"
    assert eml.headers["content-disposition"].startswith("attachment;")
    assert disposition_name(eml.headers["content-disposition"]) == "Monthly%20news.eml"
    assert source.status_code == 200
    # The source is text in a page: its markup escaped, never live.
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in source.text
    assert "<script>alert" not in source.text
    assert "Content-ID: &lt;logo@example.org&gt;" in source.text
