"""The listening socket of the web processes (cap.web.serving.listener): a TCP socket by
name, so the connections it accepts get TCP_NODELAY from asyncio and no answer waits for the
browser's delayed acknowledgement; uvicorn's own (Config.bind_socket) is not (Kludex/uvicorn
#3149), which is why cap binds it."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
from pathlib import Path

import pytest
import uvicorn

from cap.errors import InvalidInput
from cap.web.serving import listener


async def accepted_nodelay(sock: socket.socket) -> int:
    """TCP_NODELAY of a connection accepted by an asyncio server on ``sock``."""
    seen: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    def accepted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("socket")
        seen.set_result(peer.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        writer.close()

    server = await asyncio.start_server(accepted, sock=sock)
    async with server:
        host, port = sock.getsockname()[:2]
        _, writer = await asyncio.open_connection(host, port)
        result = await asyncio.wait_for(seen, timeout=10)
        writer.close()
    return result


def test_connections_to_caps_socket_get_tcp_nodelay() -> None:
    sock = listener("127.0.0.1", 0)
    assert sock.proto == socket.IPPROTO_TCP
    assert asyncio.run(accepted_nodelay(sock)) != 0


def test_uvicorns_own_socket_is_why_cap_binds_one() -> None:
    sock = uvicorn.Config("cap.web.app:app_from_env", host="127.0.0.1", port=0).bind_socket()
    if sock.proto == socket.IPPROTO_TCP:
        sock.close()
        pytest.skip("uvicorn names the protocol now (#3149 fixed): cap's listener may go")
    assert asyncio.run(accepted_nodelay(sock)) == 0  # Nagle left on: the 40 ms waits


def test_a_port_in_use_is_one_clear_error() -> None:
    taken = listener("127.0.0.1", 0)
    taken.listen()
    port = taken.getsockname()[1]
    with pytest.raises(InvalidInput, match=rf"--port: cannot listen on 127.0.0.1:{port} \("):
        listener("127.0.0.1", port)
    taken.close()


@pytest.mark.slow  # cap serve as a process
def test_cap_serve_on_a_port_in_use_says_so_before_doing_anything(
    sqlite_url: str, tmp_path: Path
) -> None:
    taken = listener("127.0.0.1", 0)
    taken.listen()
    port = taken.getsockname()[1]
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("CAP_")},
           "CAP_DATABASE_URL": sqlite_url, "CAP_MAIL_DIR": str(tmp_path / "mail"),
           "CAP_SECRET_KEY": "test-only-secret-key-of-forty-characters"}  # fmt: skip
    done = subprocess.run(["cap", "serve", "--port", str(port)], env=env, capture_output=True,
                          text=True, timeout=60, check=False)  # fmt: skip
    taken.close()
    assert done.returncode == 2
    assert done.stderr == (
        f"error: --port: cannot listen on 127.0.0.1:{port} (Address already in use); is cap "
        "already serving there? Stop it or choose another port\n"
    )
    assert done.stdout == ""  # nothing served, nothing swept
