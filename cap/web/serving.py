"""Running the desk's web processes: one (the application built here) or several on one port
(each builds it from the CAP_* environment, :func:`cap.web.app.app_from_env`).

Several processes share a listening socket cap binds itself, not uvicorn's
(``Config.bind_socket``): that one is made without naming its protocol, so the connections it
accepts report protocol 0, asyncio leaves Nagle's algorithm on for them (it sets TCP_NODELAY
on TCP sockets only) and every answer after the first on a kept-alive connection waits about
40 ms for the browser's delayed acknowledgement (Kludex/uvicorn#3149, open).
tests/test_serve_processes.py checks both sockets, so the day uvicorn names the protocol the
test says this can go.

``python -m cap.web.serving --port P --processes N`` runs the processes without the worker
(bench/web.py measures them so).
"""

from __future__ import annotations

import argparse
import socket

from cap.config import Settings
from cap.errors import InvalidInput

#: What each web process builds its application with (uvicorn's factory).
FACTORY = "cap.web.app:app_from_env"
LOG_LEVEL = "warning"


def serve(
    settings: Settings,
    host: str,
    port: int,
    *,
    processes: int = 1,
    keep_alive: int | None = None,
    sock: socket.socket | None = None,
) -> None:
    """Serve the desk on ``host``:``port`` with ``processes`` web processes until stopped
    (SIGINT or SIGTERM). ``keep_alive``: seconds an idle connection is kept (uvicorn's 5).
    One process listens on cap's socket too (its connections get TCP_NODELAY either way);
    ``sock``: that socket, bound already (by :func:`listener`)."""
    import uvicorn

    options = {} if keep_alive is None else {"timeout_keep_alive": keep_alive}
    sock = sock or listener(host, port)
    if processes == 1:
        from cap.web.app import create_app

        config = uvicorn.Config(create_app(settings, settle=True), host=host, port=port,
                                log_level=LOG_LEVEL, **options)  # type: ignore[arg-type]  # fmt: skip
        uvicorn.Server(config).run(sockets=[sock])
        return
    from uvicorn.supervisors import Multiprocess

    config = uvicorn.Config(FACTORY, factory=True, host=host, port=port, workers=processes,
                            log_level=LOG_LEVEL, **options)  # type: ignore[arg-type]  # fmt: skip
    Multiprocess(config, sockets=[sock]).run()


def listener(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host``:``port`` that the web processes inherit and listen on, made as
    uvicorn's ``Config.bind_socket`` makes it, but as a TCP socket by name (see above)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise InvalidInput(
            f"--port: cannot listen on {host}:{port} ({exc.strerror}); is cap already serving "
            "there? Stop it or choose another port"
        ) from None
    sock.set_inheritable(True)
    return sock


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--keep-alive", type=int, default=None)
    args = parser.parse_args(argv)
    serve(Settings(), args.host, args.port, processes=args.processes, keep_alive=args.keep_alive)


if __name__ == "__main__":
    main()
