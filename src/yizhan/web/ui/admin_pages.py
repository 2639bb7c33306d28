"""The admin console's pages under /admin, gathered into one router: web/ui/admin.py (start, status, domains,
aliases), admin_accounts.py (accounts and the CSV import) and admin_logs.py (queue, delivery and audit logs)."""

from __future__ import annotations

from fastapi import APIRouter

from yizhan.web.ui import admin, admin_accounts, admin_logs

router = APIRouter()
for _part in (admin, admin_accounts, admin_logs):
    router.include_router(_part.router)
