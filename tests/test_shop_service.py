"""The tutorial's FastAPI service, started as a user starts it and called over HTTP.

One test runs the service in uvicorn on a free local port, as ``victor-shop`` does; one
races requests against it in-process; and one follows the README and the tutorial from a
fresh virtual environment to the running service (marked ``newcomer``: it installs the
checkout with pip, from pip's cache when it can).
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("victor_memory", reason="runs what README's install gives: victor-memory")
pytest.importorskip("victor_sqlite", reason="runs what README's install gives: victor-sqlite")

httpx = pytest.importorskip("httpx", reason="the service tests need httpx")
pytest.importorskip("fastapi", reason="the service tests need fastapi")
pytest.importorskip("uvicorn", reason="the service tests need uvicorn")

ROOT = Path(__file__).resolve().parents[1]
SHOP = ROOT / "examples" / "fastapi_service"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_serving(base: str, server: subprocess.Popen[str], seconds: float = 60) -> None:
    """Poll until the service answers; fail with its output if it exits or never does."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            out, err = server.communicate()
            pytest.fail(f"the service exited with {server.returncode}:\n{out}\n{err}")
        try:
            httpx.get(f"{base}/openapi.json", timeout=1)
        except httpx.TransportError:
            time.sleep(0.2)
            continue
        return
    server.kill()
    pytest.fail(f"the service did not answer within {seconds} s:\n{server.communicate()}")


def stop(server: subprocess.Popen[str]) -> tuple[int, str]:
    """SIGTERM, as a process manager stops it: the lifespan's cleanup runs."""
    server.send_signal(signal.SIGTERM)
    try:
        _, err = server.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        _, err = server.communicate()
    return server.returncode, err


def walk_through_the_tutorial(base: str) -> None:
    """The requests of the tutorial's last page, with the answers it shows."""
    with httpx.Client(base_url=base, timeout=30) as client:
        created = client.post("/customers", json={"name": "Ann"})
        assert created.status_code == 201, created.text
        ann = created.json()["customer_id"]
        placed = client.post("/orders", json={"customer_id": ann})
        assert placed.status_code == 201, placed.text
        order = placed.json()["order_id"]
        assert placed.json()["version"] == 1

        refused = client.post(f"/orders/{order}/confirm")
        assert refused.status_code == 422, "confirming an empty order is a refused command"
        assert "no items" in refused.json()["detail"]
        invalid = client.post(f"/orders/{order}/items", json={"sku": "pen", "quantity": 0})
        assert invalid.status_code == 422, "an invalid body never reaches a handler"
        assert client.post("/orders", json={"customer_id": "nobody"}).status_code == 404

        item = {"sku": "pen", "quantity": 2, "unit_price": "1.50"}
        added = client.post(f"/orders/{order}/items", json=item)
        assert added.status_code == 200, added.text
        summary = client.get(f"/orders/{order}", params={"version": added.json()["version"]})
        assert summary.status_code == 200, summary.text
        assert summary.json() == {
            "order_id": order,
            "customer_id": ann,
            "items": 2,
            "total": "3.00",
            "confirmed": False,
            "version": 2,
        }, "a read that names the version of a write includes that write"


@pytest.fixture
def service(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")},
        "PYTHONPATH": os.pathsep.join([str(SHOP), *sys.path]),
        "SHOP_STORAGE_URL": f"sqlite:///{tmp_path / 'shop.db'}",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "shop_service", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_serving(base, server)
        yield base, server
    finally:
        if server.poll() is None:
            server.kill()
            server.communicate()


def test_the_service_serves_the_tutorial_over_http_and_stops_cleanly(
    service: tuple[str, subprocess.Popen[str]],
) -> None:
    base, server = service
    walk_through_the_tutorial(base)

    code, err = stop(server)
    # uvicorn re-raises the signal once its shutdown is complete.
    assert code in (0, -signal.SIGTERM), f"the service did not shut down cleanly:\n{err}"
    assert "Application shutdown complete" in err, err


def test_racing_requests_on_one_order_lose_no_item(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every request either adds its item (200) or is told it lost the race (409)."""
    monkeypatch.syspath_prepend(str(SHOP))
    from shop_service.app import create_app

    app = create_app(f"sqlite:///{tmp_path / 'shop.db'}", read_timeout=30)

    async def race() -> tuple[list[int], dict[str, object]]:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://shop"
            ) as client,
        ):
            ann = (await client.post("/customers", json={"name": "Ann"})).json()["customer_id"]
            placed = (await client.post("/orders", json={"customer_id": ann})).json()
            item = {"sku": "pen", "quantity": 1, "unit_price": "1.00"}
            answers = await asyncio.gather(
                *(client.post(f"/orders/{placed['order_id']}/items", json=item) for _ in range(8))
            )
            versions = [a.json()["version"] for a in answers if a.status_code == 200]
            summary = await client.get(
                f"/orders/{placed['order_id']}", params={"version": max(versions)}
            )
            return [a.status_code for a in answers], summary.json()

    statuses, summary = asyncio.run(race())

    assert set(statuses) <= {200, 409}, statuses
    assert summary["items"] == statuses.count(200), "each 200 is one item stored, no more"
    assert summary["version"] == 1 + statuses.count(200)


def _commands(markdown: Path, heading: str) -> list[str]:
    """The shell lines of the first plain code block after *heading* in *markdown*."""
    text = markdown.read_text(encoding="utf-8")
    section = text[text.index(heading) :]
    block = re.search(r"^```\n(.*?)^```$", section, re.MULTILINE | re.DOTALL)
    assert block is not None, f"no command block under {heading!r} in {markdown.name}"
    return [line for line in block.group(1).splitlines() if line.strip()]


def _checkout_copy(target: Path) -> Path:
    """The checkout's files as a clone has them (tracked and new, never ignored ones)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


@pytest.mark.newcomer
def test_a_new_virtualenv_following_the_readme_and_the_tutorial_reaches_the_service(
    tmp_path: Path,
) -> None:
    checkout = _checkout_copy(tmp_path / "victor-core")
    readme = _commands(checkout / "README.md", "## Install")
    tutorial = _commands(checkout / "docs" / "tutorial" / "index.md", "## Set up")
    [run] = _commands(checkout / "docs" / "tutorial" / "service.md", "## Run it")
    # Cloning is what the copy stands for; everything else runs as written.
    steps = [line for line in [*readme, *tutorial] if not line.startswith("git clone")]
    port = free_port()
    run = run.replace("sqlite:////tmp/shop.db", f"sqlite:///{tmp_path / 'shop.db'}")
    run = run.replace("--port 8000", f"--port {port}")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTEST_", "VIRTUAL_ENV", "PYTHONPATH"))
    }
    script = "set -e\n" + "\n".join(steps) + f"\n{run}\n"
    server = subprocess.Popen(
        ["bash", "-c", script],
        cwd=checkout,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        wait_until_serving(f"http://127.0.0.1:{port}", server, seconds=420)
        walk_through_the_tutorial(f"http://127.0.0.1:{port}")
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.communicate()
