"""Fixed choices of the compose toolbar and the messages static/js/compose.js shows, in the reader's language.

The script has no catalogue of its own: the page hands it these strings (translated here) in its JSON state, so
every visible string still goes through gettext. Placeholders in them are `{name}` and are filled by the script.
"""

from __future__ import annotations

from yizhan.web.i18n import N_, Translator

# (label shown, CSS font-family value). The Chinese faces name their Windows, macOS and Linux equivalents.
FONTS: tuple[tuple[str, str], ...] = (
    ("微软雅黑", "'Microsoft YaHei', 'PingFang SC', 'Noto Sans CJK SC', sans-serif"),
    ("宋体", "SimSun, 'Songti SC', 'Noto Serif CJK SC', serif"),
    ("黑体", "SimHei, 'Heiti SC', 'Noto Sans CJK SC', sans-serif"),
    ("楷体", "KaiTi, 'Kaiti SC', 'AR PL UKai CN', serif"),
    ("仿宋", "FangSong, 'STFangsong', serif"),
    ("Arial", "Arial, Helvetica, sans-serif"),
    ("Times New Roman", "'Times New Roman', Times, serif"),
    ("Courier New", "'Courier New', Courier, monospace"),
    ("Georgia", "Georgia, serif"),
    ("Verdana", "Verdana, Geneva, sans-serif"),
)
SIZES: tuple[str, ...] = ("10px", "12px", "13px", "14px", "16px", "18px", "24px", "32px")

_MESSAGES: dict[str, str] = {
    "bad_address": N_("“{address}” is not a valid address; write it as name@example.com"),
    "no_recipient": N_("Add at least one recipient."),
    "too_large": N_("“{name}” is too large: files may be at most {size}."),
    "too_many": N_("At most {count} files may be attached."),
    "total_too_large": N_("Attachments may total at most {size}."),
    "upload_failed": N_("“{name}” could not be uploaded: {reason}"),
    "uploading": N_("Uploading {name}…"),
    "remove": N_("Remove"),
    "saved_at": N_("Draft saved at {time}"),
    "saving": N_("Saving draft…"),
    "save_failed": N_("The draft could not be saved: {reason}"),
    "sending": N_("Sending…"),
    "send_failed": N_("The message was not sent: {reason}"),
    "network": N_("the server could not be reached; check the connection and try again"),
    "link_prompt": N_("Link address (https://…):"),
    "bad_link": N_("Links must start with http://, https:// or mailto:"),
    "not_found": N_("Not found"),
    "found_count": N_("{index} of {count}"),
    "to_text_confirm": N_("Switching to plain text removes the formatting and images. Continue?"),
    "leave_unsaved": N_("The message has not been saved."),
    "no_signature": N_("No signature"),
    "image_only": N_("Only PNG, JPEG, GIF and WebP images can be put in the text."),
    "no_subject_confirm": N_("The message has no subject. Send it anyway?"),
}


def script_messages(i18n: Translator) -> dict[str, str]:
    return {key: i18n.gettext(text) for key, text in _MESSAGES.items()}
