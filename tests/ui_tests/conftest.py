from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from contexta.surfaces.http import make_server

from .scenario import build


class Client:
    """A running server and small helpers to ask it things."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self.base = server.url

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        request = urllib.request.Request(self.base + path, headers=headers or {})
        return _open(request)

    def post(
        self, path: str, body: Any, headers: dict[str, str] | None = None, token: bool = True
    ) -> tuple[int, Any]:
        data = json.dumps(body).encode()
        merged = {"Content-Type": "application/json"}
        if token:
            merged["X-Contexta-Token"] = self.server.token
        merged.update(headers or {})
        return _open(
            urllib.request.Request(self.base + path, data=data, headers=merged, method="POST")
        )


def _open(request: urllib.request.Request) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        raw, status = error.read(), error.code
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw


def start(ctx: Any, **options: Any) -> Any:
    server = make_server(ctx, port=0, **options)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def scenario_ctx(tmp_path: Path) -> Iterator[Any]:
    ctx = build(tmp_path / "ws")
    yield ctx
    ctx.close()


@pytest.fixture
def client(scenario_ctx: Any) -> Iterator[Client]:
    server = start(scenario_ctx)
    yield Client(server)
    server.shutdown()
    server.server_close()
