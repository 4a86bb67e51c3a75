"""Writes need the token (and no foreign Origin); --read-only refuses writes; paths that leave
the served folders or the workspace are refused; a foreign Host is refused on loopback."""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
from typing import Any

import pytest

from contexta import Contexta
from contexta.contract import Project
from contexta.surfaces.http.server import is_loopback

from .conftest import Client, start

QUARANTINE = {"runs": ["vision.wide"], "reason": "suspect labels"}


def _nothing_written(client: Client) -> None:
    ctx = client.server.contexta
    assert ctx.quarantined_runs() == ()
    assert list(ctx.history(kinds=("run.quarantine", "run.release"))) == []


def test_a_write_with_the_token_is_recorded_with_an_actor(client: Client) -> None:
    status, body = client.post("/api/quality/quarantine", QUARANTINE)
    assert status == 200 and body["runs"] == ["run:vision.wide"]
    events = list(client.server.contexta.history(kinds="run.quarantine"))
    assert [e.run_ref for e in events] == ["run:vision.wide"] and events[0].actor


@pytest.mark.parametrize("headers", [{}, {"X-Contexta-Token": "wrong"}, {"X-Contexta-Token": ""}])
def test_a_write_without_the_right_token_is_refused(client: Client, headers: Any) -> None:
    status, body = client.post("/api/quality/quarantine", QUARANTINE, headers=headers, token=False)
    assert status == 401 and body["error"]["code"] == "http_token_required"
    _nothing_written(client)


@pytest.mark.parametrize("action", ["tag", "quarantine", "release"])
def test_every_write_action_needs_the_token(client: Client, action: str) -> None:
    body = {"runs": ["vision.wide"], "reason": "r", "event_key": "data.bad", "message": "m"}
    status, _ = client.post(f"/api/quality/{action}", body, token=False)
    assert status == 401
    assert client.server.contexta.runs_with_event("data.bad") == ()
    _nothing_written(client)


def test_a_cross_site_write_is_refused_even_with_the_token(client: Client) -> None:
    status, body = client.post(
        "/api/quality/quarantine", QUARANTINE, headers={"Origin": "http://evil.example"}
    )
    assert status == 403 and body["error"]["code"] == "http_forbidden_origin"
    _nothing_written(client)


def test_a_form_post_is_refused(client: Client) -> None:
    status, _body = client.post(
        "/api/quality/quarantine",
        QUARANTINE,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert status == 415
    _nothing_written(client)


def test_read_only_refuses_writes(scenario_ctx: Any) -> None:
    server = start(scenario_ctx, read_only=True)
    try:
        status, body = Client(server).post("/api/quality/quarantine", QUARANTINE)
        assert status == 403 and body["error"]["code"] == "http_read_only"
        assert scenario_ctx.quarantined_runs() == ()
        assert Client(server).get("/api/info")[1]["read_only"] is True
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    "path",
    [
        "/ui/static/../server.py",
        "/ui/static/%2e%2e/server.py",
        "/ui/static/..%2fserver.py",
        "/ui/static/vendor/../../server.py",
        "/ui/static/%2e%2e/%2e%2e/%2e%2e/pyproject.toml",
        "/runs/..%2f..%2fetc%2fpasswd",
        "/ui/static/%00",
    ],
)
def test_a_path_leaving_its_folder_is_refused(client: Client, path: str) -> None:
    status, body = _raw(client, path)
    assert status == 403, body
    assert body["error"]["code"] == "http_forbidden_path"


def _raw(client: Client, path: str) -> tuple[int, Any]:
    """GET ``path`` exactly as written (no client-side normalising of ``..``)."""
    connection = http.client.HTTPConnection(*client.server.server_address[:2], timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def test_an_artifact_body_outside_the_workspace_is_not_served(
    client: Client, monkeypatch: Any
) -> None:
    from pathlib import Path

    store = client.server.contexta.artifact_store
    real = store.get_artifact

    class Outside:
        def __init__(self, handle: Any) -> None:
            self.path = Path("/etc/hostname")

    monkeypatch.setattr(store, "get_artifact", lambda ref: Outside(real(ref)))
    status, body = client.get("/api/artifact?ref=artifact:vision.baseline.model")
    assert status == 403 and body["error"]["code"] == "http_forbidden_path"


def test_an_artifact_body_inside_the_workspace_downloads(client: Client) -> None:
    status, body = client.get("/api/artifact?ref=artifact:vision.baseline.model")
    assert status == 200 and body == b"weights-of-the-baseline-model"


def test_a_foreign_host_header_is_refused_on_loopback(client: Client) -> None:
    status, body = client.get("/projects", headers={"Host": "attacker.example:8080"})
    assert status == 403 and body["error"]["code"] == "http_forbidden_host"
    assert client.get("/projects", headers={"Host": "localhost"})[0] == 200


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("localhost", True),
        ("::1", True),
        ("0.0.0.0", False),
        ("192.168.1.4", False),
        ("", False),
    ],
)
def test_loopback_is_recognised(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_cli_serve_prints_the_address_and_token_and_answers(tmp_path: Any) -> None:
    from .scenario import build

    build(tmp_path / "ws").close()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "contexta.cli",
            "--workspace",
            str(tmp_path / "ws"),
            "ui",
            "--no-browser",
            "--port",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = proc.stdout.readline()
        assert first.startswith("Serving HTTP on http://127.0.0.1:"), first
        url = first.split()[3]
        page = proc.stdout.readline()
        token_line = proc.stdout.readline()
        assert token_line.startswith("Write token: ")
        assert page.strip().endswith("#token=" + token_line.split()[-1])
        host, port = url.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=20)
        try:
            connection.request("GET", "/projects")
            assert json.loads(connection.getresponse().read()) == {"projects": ["nlp", "vision"]}
        finally:
            connection.close()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        proc.stdout.close()
        proc.stderr.close()


def test_cli_serve_on_a_taken_port_is_a_typed_error(client: Client, tmp_path: Any) -> None:
    port = client.server.server_address[1]
    other = tmp_path / "other"
    ctx = Contexta(workspace=str(other))  # a workspace (reads never create one)
    ctx.metadata_store.projects.put_project(
        Project(project_ref="project:other", name="other", created_at="2025-01-01T00:00:00Z")
    )
    ctx.close()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "contexta.cli",
            "--workspace",
            str(other),
            "serve",
            "http",
            "--port",
            str(port),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "serve_bind_failed" in done.stderr or "Cannot serve" in done.stderr
    assert "Traceback" not in done.stderr
