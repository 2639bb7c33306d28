"""`/api/v1/settings`: the caller's settings (display name, language, time zone, list density, remote-image policy
and the senders whose images are always shown) and signatures.

Invariants: values are validated by services/settings.py before any is stored (all or nothing per PATCH); the
display name is changed through the directory, so other parts of the server see it; another account's signature
answers 404 like a missing one.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response

from yizhan.services.settings import SettingsService
from yizhan.store.settings import Signature as SignatureRecord
from yizhan.util.errors import InvalidInput, NotFound
from yizhan.web.api.v1.models import (
    AccountSettings,
    AccountSettingsChange,
    ImageSender,
    NewSignature,
    Signature,
    SignatureChange,
    SignatureList,
    one_line,
)
from yizhan.web.api.v1.paging import Id
from yizhan.web.api.v1.responses import errors
from yizhan.web.deps import Principal, require_account, web_state

router = APIRouter(tags=["settings"], responses=errors(400))
Caller = Annotated[Principal, Depends(require_account)]


def _settings(request: Request) -> SettingsService:
    service: SettingsService = web_state(request).services.account_settings
    return service


def _signature(record: SignatureRecord) -> Signature:
    return Signature(id=record.id, name=record.name, body=record.body, format=record.format,
                     is_default=record.is_default, created_at=record.created_at, updated_at=record.updated_at)


async def _answer(service: SettingsService, principal: Principal) -> AccountSettings:
    account = await service.directory.account(principal.account.address)
    current = await service.get(account)
    return AccountSettings(display_name=current.display_name, language=current.language,
                           time_zone=current.time_zone, density=current.density,
                           remote_images=current.remote_images,
                           image_senders=await service.image_senders(account.id),
                           signatures=[_signature(s) for s in current.signatures])


@router.get("/settings", response_model=AccountSettings, summary="The caller's settings")
async def read_settings(request: Request, principal: Caller) -> AccountSettings:
    return await _answer(_settings(request), principal)


@router.patch("/settings", response_model=AccountSettings, summary="Change settings",
              description="Only the fields given change; every one is checked before any is stored.")
async def change_settings(request: Request, principal: Caller, body: AccountSettingsChange) -> AccountSettings:
    service = _settings(request)
    await service.update(principal.account, display_name=body.display_name, language=body.language,
                         time_zone=body.time_zone, density=body.density, remote_images=body.remote_images)
    return await _answer(service, principal)


@router.post("/settings/image-senders", response_model=AccountSettings, summary="Always show images from a sender",
             description="An address, or @domain for every sender of a domain (used by the `ask` policy).",
             responses=errors(507))
async def add_image_sender(request: Request, principal: Caller, body: ImageSender) -> AccountSettings:
    service = _settings(request)
    await service.allow_images_from(principal.account.id, body.sender)
    return await _answer(service, principal)


@router.delete("/settings/image-senders/{sender}", response_model=AccountSettings,
               summary="Stop always showing images from a sender", responses=errors(404))
async def remove_image_sender(request: Request, principal: Caller,
                              sender: Annotated[str, Path(min_length=1, max_length=320)]) -> AccountSettings:
    service = _settings(request)
    try:
        one_line(sender)
    except ValueError as exc:
        raise InvalidInput(f"sender: {exc}") from exc
    await service.disallow_images_from(principal.account.id, sender)
    return await _answer(service, principal)


@router.get("/settings/signatures", response_model=SignatureList, summary="The caller's signatures")
async def list_signatures(request: Request, principal: Caller) -> SignatureList:
    return SignatureList(signatures=[_signature(s) for s in await _settings(request).signatures(principal.account.id)])


@router.post("/settings/signatures", response_model=Signature, status_code=201, summary="Add a signature",
             description="The first signature, or one with is_default, becomes the default.", responses=errors(507))
async def add_signature(request: Request, principal: Caller, body: NewSignature) -> Signature:
    return _signature(await _settings(request).add_signature(principal.account.id, body.name, body.body,
                                                             body.format, body.is_default))


@router.get("/settings/signatures/{signature_id}", response_model=Signature, summary="One signature",
            responses=errors(404))
async def read_signature(request: Request, principal: Caller, signature_id: Id) -> Signature:
    for signature in await _settings(request).signatures(principal.account.id):
        if signature.id == signature_id:
            return _signature(signature)
    raise NotFound(f"no signature {signature_id}")


@router.patch("/settings/signatures/{signature_id}", response_model=Signature, summary="Change a signature",
              description="Only the fields given change.", responses=errors(404))
async def change_signature(request: Request, principal: Caller, signature_id: Id, body: SignatureChange) -> Signature:
    return _signature(await _settings(request).update_signature(
        principal.account.id, signature_id, name=body.name, body=body.body, format=body.format,
        is_default=body.is_default))


@router.delete("/settings/signatures/{signature_id}", status_code=204, response_class=Response,
               summary="Delete a signature", description="Deleting the default makes the oldest other one the "
                                                         "default.", responses=errors(404))
async def delete_signature(request: Request, principal: Caller, signature_id: Id) -> Response:
    await _settings(request).delete_signature(principal.account.id, signature_id)
    return Response(status_code=204)
