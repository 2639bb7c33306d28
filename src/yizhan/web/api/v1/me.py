"""`GET /api/v1/me`: the account the caller is signed in as."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from yizhan.web.api.v1.models import Account
from yizhan.web.deps import Principal, require_account

router = APIRouter(tags=["account"])


@router.get("/me", response_model=Account, summary="The signed-in account")
async def me(principal: Annotated[Principal, Depends(require_account)]) -> Account:
    return Account.of(principal.account)
