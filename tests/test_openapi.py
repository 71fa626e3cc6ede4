"""The OpenAPI document tells the truth: real models, every error documented, and a short,
deterministic schemathesis run against the live server finds nothing to complain about."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from dailypapers.members.accounts import create_member
from dailypapers.members.auth import new_api_token

from .conftest import LiveServer, MailSink, running_community

MEMBER_ERRORS = {"401", "403", "413", "422", "429"}
# Small and fixed: every run sends the same requests (at most 20 random cases per operation,
# plus the examples and boundary values the document implies; about 550 requests), in seconds.
SCHEMATHESIS_OPTIONS = [
    "--checks=not_a_server_error,response_schema_conformance,status_code_conformance,"
    "content_type_conformance",
    "--phases=examples,coverage,fuzzing",
    "--mode=all",  # valid input must be answered; invalid input must get a documented 4xx
    "--max-examples=20",
    "--generation-deterministic",
    "--no-shrink",
    "--workers=1",
    "--request-timeout=30",
    "--no-color",
]


@pytest.fixture
def spec(client: httpx.Client) -> dict[str, Any]:
    return client.get("/openapi.json").json()  # type: ignore[no-any-return]


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, methods in spec["paths"].items()
        for method, operation in methods.items()
    ]


def test_every_answer_has_a_real_model(spec: dict[str, Any]) -> None:
    for method, path, operation in operations(spec):
        for status, response in operation["responses"].items():
            schema = response.get("content", {}).get("application/json", {}).get("schema")
            assert schema not in (None, {}, {"type": "string"}), (method, path, status)


def test_errors_are_documented_as_they_are_sent(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    assert "HTTPValidationError" not in schemas and "ValidationError" not in schemas
    assert schemas["ErrorPublic"]["properties"]["error"]["type"] == "string"
    assert schemas["ErrorPublic"]["required"] == ["error"]
    for method, path, operation in operations(spec):
        for status, response in operation["responses"].items():
            if status.startswith(("4", "5")) and path.startswith("/api/"):
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorPublic"}, (path, status)
        # a member's call: its refusals are documented, and how to authenticate
        if method != "GET" and path.startswith("/api/"):
            assert MEMBER_ERRORS <= set(operation["responses"]), (method, path)
            assert operation["security"], (method, path)
    assert {"apiToken", "sessionCookie"} <= set(spec["components"]["securitySchemes"])


def run_schemathesis(url: str, folder: Path, *options: str) -> subprocess.CompletedProcess[str]:
    """schemathesis's own command over the site's /openapi.json (its examples, boundary values
    and random input, valid and invalid), run in `folder` so that it leaves nothing behind."""
    command = [sys.executable, "-m", "schemathesis.cli", "run", f"{url}/openapi.json"]
    return subprocess.run(
        [*command, *SCHEMATHESIS_OPTIONS, *options],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_schemathesis_finds_no_server_error_and_no_schema_violation(
    live_server: LiveServer, tmp_path: Path
) -> None:
    run = run_schemathesis(live_server.url, tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert re.search(r"\d+ generated, \d+ passed", run.stdout), run.stdout


def test_schemathesis_as_a_member_finds_nothing_either(
    tmp_path: Path, hf_rows: list[dict[str, Any]], mail_sink: MailSink, arxiv_replay: Any
) -> None:
    """The members' calls past the log-in: votes, comments and submissions (arXiv replayed),
    on a small site of its own, with an API token."""
    (tmp_path / "site").mkdir()
    with running_community(tmp_path / "site", hf_rows, mail_sink, arxiv_replay) as site:
        with site.factory() as session:
            member = create_member(session, "fuzzer", "fuzzer@example.org", "a long password 1")
            token = new_api_token(session, member, "schemathesis")
            session.commit()
        run = run_schemathesis(site.url, tmp_path, f"--header=Authorization: Bearer {token}")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Authentication failed" not in run.stdout, run.stdout
