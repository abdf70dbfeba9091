"""docs/nginx-sabaq.conf, run: two nodes behind one nginx, reached only through it."""

from __future__ import annotations

import asyncio
import dataclasses
import grp
import os
import pwd
import shutil
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest
from redis.asyncio import Redis

from server.ownership import room_key
from server.signalling import SESSION_COOKIE
from tests.integration.nodes import Follower, nodes
from tests.integration.peers import create_room, peers, sign_in
from tests.integration.server_process import ROOT, free_port

EXAMPLE = ROOT / "docs" / "nginx-sabaq.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
# The example's node addresses, replaced by the test's nodes (node a, node b).
EXAMPLE_NODES = ("10.0.0.11:8080", "10.0.0.12:8080")


def config_from_example(port: int, nodes_at: tuple[str, str], tmp: Path) -> str:
    """docs/nginx-sabaq.conf made runnable here, changing only what a machine dictates:

    - the node addresses 10.0.0.11:8080 and 10.0.0.12:8080 become the test's nodes;
    - `listen 443 ssl` becomes plain HTTP on a loopback port, the ssl_certificate lines go
      (no certificate here; TLS is nginx's business, not the nodes');
    - the example is what goes into `http { }` (a sites-enabled file): it is wrapped in the
      main context, with the pid, logs and temporary files under `tmp` and workers running as
      this user (a root master would otherwise switch them to nobody, who cannot read `tmp`).
    Everything else (locations, proxy_pass, headers, the upstream) is the example's own text.
    """
    text = EXAMPLE.read_text()
    for example, here in zip(EXAMPLE_NODES, nodes_at, strict=True):
        assert example in text, f"{EXAMPLE} no longer names {example}: update this test"
        text = text.replace(example, here)
    assert "listen 443 ssl;" in text
    text = text.replace("listen 443 ssl;", f"listen 127.0.0.1:{port};")
    text = "\n".join(line for line in text.splitlines() if "ssl_certificate" not in line)
    user = pwd.getpwuid(os.getuid()).pw_name
    group = grp.getgrgid(os.getgid()).gr_name
    temp = " ".join(
        f"{kind}_temp_path {tmp / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return (
        f"{'user ' + user + ' ' + group + ';' if os.getuid() == 0 else ''}\n"
        f"pid {tmp / 'nginx.pid'};\nerror_log {tmp / 'error.log'} info;\n"
        "events { worker_connections 256; }\n"
        f"http {{\naccess_log {tmp / 'access.log'};\n{temp}\n{text}\n}}\n"
    )


def start_nginx(tmp: Path, port: int, nodes_at: tuple[str, str]) -> subprocess.Popen[bytes]:
    """nginx in the foreground (`daemon off`) with the example's config; its messages (a bad
    config's included) go to tmp/error.log."""
    if not Path(NGINX).exists():  # failed, not skipped: the suite is meant to run it
        pytest.fail("nginx is not installed (scripts/install test installs nginx-light)")
    tmp.mkdir()
    conf = tmp / "nginx.conf"
    conf.write_text(config_from_example(port, nodes_at, tmp))
    log = str(tmp / "error.log")
    command = [NGINX, "-p", str(tmp), "-e", log, "-c", str(conf), "-g", "daemon off;"]
    with open(log, "ab") as out:
        return subprocess.Popen(command, stdout=out, stderr=out)


@asynccontextmanager
async def nginx(tmp: Path, port: int, nodes_at: tuple[str, str]) -> AsyncIterator[str]:
    """nginx serving the example's config on `port`; its URL. Stopped after."""
    process = start_nginx(tmp, port, nodes_at)
    url = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http, asyncio.timeout(10):
            while True:
                assert process.poll() is None, (tmp / "error.log").read_text()
                try:
                    async with http.get(f"{url}/readyz") as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientConnectionError:
                    pass  # not listening yet: nginx's start-up has no event to wait on
                await asyncio.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(10)


@pytest.mark.skipif(
    not Path(NGINX).exists(), reason="nginx is not installed (scripts/install test)"
)
@pytest.mark.timeout(90)
async def test_two_nodes_behind_the_example_nginx_config(
    data: Path, redis_url: str, tmp_path: Path
) -> None:
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    # Given with the trailing slash the example's locations have; the nodes drop it.
    node_a, node_b = f"{public}/node/a", f"{public}/node/b"
    each = [["--public-url", public, "--node-url", f"{url}/"] for url in (node_a, node_b)]
    async with (
        nodes(data, redis_url, 2, each=each) as (a, b),
        nginx(tmp_path / "nginx", port, (a.server.url[7:], b.server.url[7:])),
        peers("host", "pupil", "guest") as (host, pupil, guest),
    ):
        # Sign-in and room creation: the API through the shared upstream (any node).
        behind = dataclasses.replace(a.server, url=public)
        token = await sign_in(behind, *a.server.teacher)
        room = await create_room(behind, token)
        join = {"v": 1, "room": room["id"], "as": "user"}

        # The teacher opens the room through node a's path; the room's node (a or b: the
        # nodes choose it by hash) answers there, or sends the teacher on to it through nginx.
        teacher = Follower(host, node_a, token)
        assert (await teacher.join(join, within=15))["you"]["role"] == "host"
        serving = teacher.url
        assert teacher.redirects == ([] if serving == node_a else [node_b])
        client = Redis.from_url(redis_url)
        owner = (await client.get(room_key(room["id"])) or b"").decode()
        assert (await client.get(f"sabaq:node:{owner}") or b"").decode() == serving
        await client.aclose()

        # The pupil comes in through the other node's path and is sent on, through nginx: a
        # /node/ location reaching the wrong node (or not stripping its prefix) never joins.
        other = node_b if serving == node_a else node_a
        learner = Follower(pupil, other, await sign_in(behind, *a.server.pupils[0]))
        pupil_id = (await learner.join(join, within=15))["you"]["id"]
        assert learner.redirects == [serving]
        await host.wait("participant_joined", lambda d: d["participant"]["id"] == pupil_id)

        # A guest through the shared address lands on a directly or is sent there.
        comer = Follower(guest, public)
        asked = {"v": 1, "room": room["id"], "as": "guest", "name": "Aigerim", "institution": "S"}
        assert (await comer.join(asked, within=15))["ok"]
        assert comer.redirects in ([], [serving]) and comer.url in (public, serving)

        # Chat both ways between the teacher and the pupil.
        assert (await pupil.call("chat_send", {"text": "hello via nginx"}))["ok"]
        await host.wait("chat_message", lambda d: d["message"]["text"] == "hello via nginx")
        assert (await host.call("chat_send", {"text": "hello back"}))["ok"]
        await pupil.wait("chat_message", lambda d: d["message"]["text"] == "hello back")

        # The API through each node's own path, its prefix stripped: who is signed in.
        cookie = {"Cookie": f"{SESSION_COOKIE}={token}"}
        async with aiohttp.ClientSession() as http:
            for base in (node_a, node_b):
                async with http.get(f"{base}/api/me", headers=cookie) as response:
                    assert response.status == 200, (base, await response.text())
                    assert a.server.teacher[0] in await response.text()
