"""Worker meshes (util/mesh.py) in one process for tests: each pair joined by a Unix stream socket pair, as the
supervisor joins two workers."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Iterator

from yizhan.util.mesh import Mesh


def link(a: Mesh, b: Mesh) -> None:
    """Join two meshes by a Unix stream socket pair."""
    left, right = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    a.add_peer(b.index, left)
    b.add_peer(a.index, right)


def mesh_factory(attached: bool) -> Iterator[Callable[[int], list[Mesh]]]:
    """For a fixture: `make(n)` gives n meshes, every pair linked (and attached to the running loop when
    `attached`); all are closed afterwards."""
    made: list[Mesh] = []

    def make(count: int) -> list[Mesh]:
        group = [Mesh(len(made) + i) for i in range(count)]
        for i, a in enumerate(group):
            for b in group[i + 1:]:
                link(a, b)
        if attached:
            loop = asyncio.get_running_loop()
            for mesh in group:
                mesh.attach(loop)
        made.extend(group)
        return group

    yield make
    for mesh in made:
        mesh.close()
