"""The command table: which parsed command runs in which session states, and which handler runs it.

The session (session.py) runs whatever this table names; the handlers (cmd_*.py) use the session. Keeping the
table here, apart from both, means neither imports the other in a circle. RFC 9051 §6 gives the states.
"""

from __future__ import annotations

from yizhan.protocols.imap import (
    cmd_append,
    cmd_auth,
    cmd_basic,
    cmd_copy,
    cmd_fetch,
    cmd_folders,
    cmd_search,
    cmd_select,
    cmd_store,
)
from yizhan.protocols.imap import commands as c
from yizhan.protocols.imap.session import ANY, AUTH, NOT_AUTH, SELECTED, Handlers

HANDLERS: Handlers = {
    c.Capability: (ANY, cmd_basic.capability), c.Noop: (ANY, cmd_basic.noop), c.Logout: (ANY, cmd_basic.logout),
    c.Id: (ANY, cmd_basic.id_),
    c.StartTls: (NOT_AUTH, cmd_auth.starttls), c.Login: (NOT_AUTH, cmd_auth.login),
    c.Authenticate: (NOT_AUTH, cmd_auth.authenticate),
    c.Enable: (AUTH, cmd_basic.enable), c.Namespace: (AUTH, cmd_basic.namespace),
    c.Select: (AUTH, cmd_select.select), c.Examine: (AUTH, cmd_select.select),
    c.Create: (AUTH, cmd_folders.create), c.Delete: (AUTH, cmd_folders.delete),
    c.Rename: (AUTH, cmd_folders.rename), c.Subscribe: (AUTH, cmd_folders.subscribe),
    c.Unsubscribe: (AUTH, cmd_folders.subscribe), c.List: (AUTH, cmd_folders.list_),
    c.Lsub: (AUTH, cmd_folders.lsub), c.Status: (AUTH, cmd_folders.status),
    c.Append: (AUTH, cmd_append.append), c.Idle: (AUTH, cmd_select.idle),
    c.Check: (SELECTED, cmd_select.check), c.Close: (SELECTED, cmd_select.close),
    c.Unselect: (SELECTED, cmd_select.unselect), c.Expunge: (SELECTED, cmd_select.expunge),
    c.UidExpunge: (SELECTED, cmd_select.expunge),
    c.Fetch: (SELECTED, cmd_fetch.fetch), c.Store: (SELECTED, cmd_store.store),
    c.Copy: (SELECTED, cmd_copy.copy), c.Move: (SELECTED, cmd_copy.copy),
    c.Search: (SELECTED, cmd_search.search),
}
