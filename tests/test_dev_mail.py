"""Mail is visible in development: `dailypapers serve` without DAILYPAPERS_SMTP_URL writes each
message to its output, links whole, and the links name the address it listens on when
DAILYPAPERS_BASE_URL is unset, so a sign-up can be finished on a default install."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import httpx

from .conftest import database_url_for, eventually, free_port
from .test_accounts import PASSWORD, csrf_of
from .test_serve import wait_until_serving


def test_serve_without_smtp_prints_mail_with_links_to_where_it_listens(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAILYPAPERS_")}
    env.update(
        DAILYPAPERS_DATA_DIR=str(tmp_path / "var"),
        DAILYPAPERS_DATABASE_URL=database_url_for(tmp_path / "var"),
        DAILYPAPERS_HARVEST_SCHEDULER="false",  # no arXiv here
        DAILYPAPERS_LOAD_DEMO_DATA="false",
        DAILYPAPERS_DENSE_SEARCH="false",
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "dailypapers", "serve", "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    output: list[str] = []

    def read_output() -> None:
        assert server.stdout is not None
        for line in iter(server.stdout.readline, b""):
            output.append(line.decode("utf-8", "replace"))

    reader = threading.Thread(target=read_output, daemon=True)
    reader.start()
    try:
        wait_until_serving(server, base, seconds=90)
        with httpx.Client(base_url=base, timeout=30) as http:
            token = csrf_of(http.get("/signup").text)
            data = {"username": "ada", "email": "ada@example.org", "password": PASSWORD}
            signed_up = http.post("/signup", data={"csrf_token": token, **data})
            assert signed_up.status_code == 200 and "Check your inbox" in signed_up.text

            def confirmation_link() -> str | None:
                found = re.search(re.escape(base) + r"/confirm/[A-Za-z0-9._-]+", "".join(output))
                return found.group(0) if found else None

            link = eventually(confirmation_link, timeout=10)
            assert link, "".join(output)[-3000:]
            printed = "".join(output)
            assert "To: ada@example.org" in printed and "Subject: Confirm your email" in printed
            confirmed = http.get(link.removeprefix(base), follow_redirects=True)
            assert confirmed.status_code == 200 and "Your address is confirmed" in confirmed.text
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        reader.join(timeout=5)
