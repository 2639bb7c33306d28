"""The REST API. Version 1 lives under /api/v1; the schema is at /api/openapi.json and the docs at /api/docs."""

from __future__ import annotations

from fastapi import APIRouter

from yizhan.web.api.v1 import router as v1_router


def router() -> APIRouter:
    api = APIRouter(prefix="/api")
    api.include_router(v1_router())
    return api
