"""API version 1: every route answers JSON, and every failure the error body of web/errors.py."""

from __future__ import annotations

from fastapi import APIRouter

from yizhan.web.api.v1 import admin, compose, contacts, folders, me, message, messages, notes, session, settings, tokens
from yizhan.web.api.v1.models import ErrorBody

ERRORS: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorBody, "description": "No session cookie or API token, or an expired one"},
    403: {"model": ErrorBody, "description": "Refused: CSRF token missing or wrong, or not allowed"},
    422: {"model": ErrorBody, "description": "The request does not match the schema; `fields` says where"},
}


def router() -> APIRouter:
    v1 = APIRouter(prefix="/v1", responses=ERRORS)
    v1.include_router(session.router)
    v1.include_router(me.router)
    v1.include_router(folders.router)
    v1.include_router(compose.router)
    v1.include_router(messages.router)
    v1.include_router(admin.router)
    v1.include_router(message.router)
    v1.include_router(contacts.router)
    v1.include_router(notes.router)
    v1.include_router(settings.router)
    v1.include_router(tokens.router)
    return v1
