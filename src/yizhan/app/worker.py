"""One worker process of a multi-process server: `python -m yizhan.app.worker INDEX CONTROL_FD`.

The supervisor (app/supervisor.py) starts it, sends it the settings and its sockets to the other workers over the
control channel (app/control.py), then "start". The worker runs a whole `Server` in the `WorkerRole`: the same
listeners on the same ports as every other worker (the kernel spreads connections among them), its changes told to
the others over the mesh (util/mesh.py). It stops on SIGTERM or SIGINT, and when the supervisor is gone (the control
channel closes), so no worker outlives the server.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import sys

from yizhan.app import control
from yizhan.app.eventloop import run_server, serving_loop
from yizhan.app.logs import configure_logging
from yizhan.app.server import Server, WorkerRole
from yizhan.config.paths import DataPaths
from yizhan.config.settings import Settings
from yizhan.util.mesh import Mesh

log = logging.getLogger(__name__)


def main(argv: list[str]) -> int:
    index, fd = int(argv[0]), int(argv[1])
    channel = socket.socket(fileno=fd)
    first = control.receive(channel)
    if first is None or first[0][0] != "setup":
        return 2
    settings, paths = first[0][1], first[0][2]
    assert isinstance(settings, Settings) and isinstance(paths, DataPaths)
    configure_logging(settings, f"worker-{index}")
    mesh = Mesh(index)
    # The first peers arrive before "start": this worker serves only once it can tell every other worker.
    while True:
        received = control.receive(channel)
        if received is None:
            return 1
        message, peer_fd = received
        if message[0] == "start":
            break
        if message[0] == "peer" and peer_fd is not None:
            mesh.add_peer(message[1], socket.socket(fileno=peer_fd))
    server = Server(settings, paths, WorkerRole(index, mesh))
    return run_server(settings.server.event_loop, _work(server, mesh, channel))


async def _work(server: Server, mesh: Mesh, channel: socket.socket) -> int:
    loop = asyncio.get_running_loop()
    stop = serving_loop()
    channel.setblocking(False)

    def from_supervisor() -> None:
        try:
            received = control.receive(channel)
        except BlockingIOError:
            return
        except OSError:
            received = None
        if received is None:
            log.warning("the supervisor is gone: stopping")
            loop.remove_reader(channel.fileno())
            stop.set()
            return
        message, peer_fd = received
        if message[0] == "peer" and peer_fd is not None:
            mesh.add_peer(message[1], socket.socket(fileno=peer_fd))

    loop.add_reader(channel.fileno(), from_supervisor)
    try:
        await server.start()
        # Messages from the other workers are handled from now on, when every handler is registered (the
        # services' and each listener's); until then they wait in the sockets.
        mesh.attach(loop)
        control.send(channel, ("ready",))
        await stop.wait()
    finally:
        await server.stop()
        mesh.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
