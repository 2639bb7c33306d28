"""The control channel between the supervisor and one worker process: a SOCK_SEQPACKET socket pair.

Each message is one packet: a pickled tuple, with at most one file descriptor passed beside it (SCM_RIGHTS).
From the supervisor: ("setup", settings, paths), then ("peer", index) with the socket to that worker (at the start
and whenever a worker is started again), and ("start",) once the first peers are all sent. From the worker:
("ready",) once its listeners serve. Both ends are the server's own processes, so unpickling is safe.
"""

from __future__ import annotations

import pickle
import socket
from typing import Any

MAX_MESSAGE = 1024 * 1024


def control_pair() -> tuple[socket.socket, socket.socket]:
    """(supervisor's end, worker's end); the worker's end is inheritable, for `pass_fds`."""
    parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    child.set_inheritable(True)
    return parent, child


def send(sock: socket.socket, message: tuple[Any, ...], fd: int | None = None) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    if fd is None:
        sock.sendall(data)
    else:
        socket.send_fds(sock, [data], [fd])


def receive(sock: socket.socket) -> tuple[tuple[Any, ...], int | None] | None:
    """The next message and the descriptor that came with it; None when the other end closed."""
    data, fds, _flags, _address = socket.recv_fds(sock, MAX_MESSAGE, 1)
    if not data:
        for fd in fds:
            socket.close(fd)
        return None
    message = pickle.loads(data)
    return message, (fds[0] if fds else None)
