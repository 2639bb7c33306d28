"""The pages of the web interface (server-rendered, htmx for partial updates); none of them is in the API schema."""

from __future__ import annotations

from fastapi import APIRouter

from yizhan.web.ui import (
    admin_pages,
    auth,
    compose,
    contacts,
    home,
    mail,
    mail_events,
    notes,
    prefs,
    read,
    read_files,
    settings,
)


def router() -> APIRouter:
    pages = APIRouter(include_in_schema=False)
    pages.include_router(auth.router)
    pages.include_router(home.router)
    pages.include_router(prefs.router)
    pages.include_router(admin_pages.router)
    pages.include_router(compose.router)
    pages.include_router(contacts.router)
    pages.include_router(notes.router)
    pages.include_router(settings.router)
    pages.include_router(read.router)
    pages.include_router(read_files.router)
    pages.include_router(mail.router)
    pages.include_router(mail_events.router)
    return pages
