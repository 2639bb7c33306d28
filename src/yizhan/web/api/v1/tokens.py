"""`/api/v1/tokens`: the caller's personal API tokens — list, create (the secret is answered this once), read,
revoke.

Invariants: the secret is never stored or shown again (services/tokens.py keeps its SHA-256); a token can only
make tokens with scopes it holds itself (no escalation from a read token to a write one); the admin scope is for
admin and domain-admin accounts only; revoking keeps the token listed as revoked; another account's token answers
404 like a missing one.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from yizhan.services.tokens import TokenService
from yizhan.store.tokens import ApiToken as TokenRecord
from yizhan.util.clock import now_seconds
from yizhan.util.errors import PermissionDenied
from yizhan.web.api.v1.models import ApiToken, ApiTokenList, CreatedApiToken, NewApiToken
from yizhan.web.api.v1.paging import Id
from yizhan.web.api.v1.responses import errors
from yizhan.web.deps import Principal, require_account, web_state

router = APIRouter(tags=["tokens"], responses=errors(400))
Caller = Annotated[Principal, Depends(require_account)]


def _tokens(request: Request) -> TokenService:
    service: TokenService = web_state(request).services.tokens
    return service


def api_token(record: TokenRecord, now: int | None = None) -> ApiToken:
    now = now_seconds() if now is None else now
    state = ("revoked" if record.revoked_at is not None
             else "expired" if record.expires_at is not None and record.expires_at <= now else "active")
    return ApiToken(id=record.id, name=record.name, hint=record.hint, scopes=list(record.scopes), state=state,
                    created_at=record.created_at, last_used_at=record.last_used_at, expires_at=record.expires_at,
                    revoked_at=record.revoked_at)


@router.get("/tokens", response_model=ApiTokenList, summary="The caller's API tokens (never their secrets)")
async def list_tokens(request: Request, principal: Caller) -> ApiTokenList:
    now = now_seconds()
    return ApiTokenList(tokens=[api_token(t, now) for t in await _tokens(request).list_tokens(principal.account.id)])


@router.post("/tokens", response_model=CreatedApiToken, status_code=201, summary="Create an API token",
             description="Answers the secret this once. Send it as `Authorization: Bearer <secret>`. A request made "
                         "with a token can only create tokens with scopes that token holds.",
             responses=errors(507))
async def create_token(request: Request, principal: Caller, body: NewApiToken) -> CreatedApiToken:
    wanted: list[str] = list(dict.fromkeys(body.scopes))
    if principal.via == "bearer" and not set(wanted) <= set(principal.scopes):
        raise PermissionDenied("a token can only create tokens with the scopes it holds itself "
                               f"({', '.join(principal.scopes)})")
    created = await _tokens(request).create(principal.account, body.name, wanted, body.expires_in_days)
    return CreatedApiToken(token=api_token(created.token), secret=created.secret)


@router.get("/tokens/{token_id}", response_model=ApiToken, summary="One API token", responses=errors(404))
async def read_token(request: Request, principal: Caller, token_id: Id) -> ApiToken:
    return api_token(await _tokens(request).tokens.get(principal.account.id, token_id))


@router.delete("/tokens/{token_id}", status_code=204, response_class=Response, summary="Revoke an API token",
               description="The token stops working at once; it stays listed as revoked.", responses=errors(404))
async def revoke_token(request: Request, principal: Caller, token_id: Id) -> Response:
    await _tokens(request).revoke(principal.account.id, token_id)
    return Response(status_code=204)
