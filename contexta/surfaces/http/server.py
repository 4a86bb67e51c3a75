"""The embedded HTTP server: Contexta 1.0's JSON routes, the web UI and its API.

Standard library only (``http.server.ThreadingHTTPServer``): one thread per request, which is
what a local tool for one person needs, and no dependency to install.

Safety: it binds ``127.0.0.1`` unless told otherwise (:func:`is_loopback` tells the command
line when to warn); requests whose ``Host`` is not the bound address are refused while bound
to loopback (a page on another site cannot reach it by DNS rebinding); every write (``POST``)
needs the token the server prints at start in the ``X-Contexta-Token`` header, a JSON body,
and, when the browser sends an ``Origin``, the server's own origin; ``read_only=True`` refuses
every write. Static files and artifact bodies are only served from inside their roots; a path
with a ``..`` segment is refused.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import mimetypes
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from ...common.errors import ContextaError
from . import api
from .live import stream
from .routes import BadRequest, NotFound, Query, answer_legacy, int_param, param
from .serializers import error_envelope, to_jsonable
from .series import SeriesCache
from .tables import RunTable

__all__ = [
    "TOKEN_HEADER",
    "ContextaRequestHandler",
    "ContextaServer",
    "is_loopback",
    "make_server",
    "serve",
]

TOKEN_HEADER = "X-Contexta-Token"
STATIC_ROOT = Path(__file__).parent / "static"
MAX_BODY = 64 * 1024


class Refused(Exception):
    """A request refused for safety (status and code given)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return host == "localhost"
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _leaves(part: str) -> bool:
    """A decoded path segment that could climb out of a folder (``..``, ``a/../b``, NUL)."""
    pieces = part.replace("\\", "/").split("/")
    return "\x00" in part or any(piece in ("..", ".") for piece in pieces)


class _Views:
    """Per source (live or one as-of time): the run table and series caches."""

    def __init__(self, source: Any) -> None:
        self.source = source
        self.table = RunTable()
        self.series = SeriesCache()


class ContextaServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(
        self,
        contexta: Any,
        host: str,
        port: int,
        *,
        read_only: bool = False,
        token: str | None = None,
    ) -> None:
        self.contexta = contexta
        self.read_only = read_only
        self.token = token or secrets.token_urlsafe(24)
        self.closing = threading.Event()
        self._views: OrderedDict[str | None, _Views] = OrderedDict()
        self._views_lock = threading.Lock()
        self.write_lock = threading.Lock()
        super().__init__((host, port), ContextaRequestHandler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        name = host.decode() if isinstance(host, bytes) else str(host)
        shown = f"[{name}]" if ":" in name else name
        return f"http://{shown}:{port}"

    def views(self, as_of: str | None) -> _Views:
        """The live views, or those of ``ctx.as_of(as_of)`` (the last few kept)."""
        with self._views_lock:
            found = self._views.get(as_of)
            if found is not None:
                self._views.move_to_end(as_of)
                return found
        source = self.contexta if as_of is None else self.contexta.as_of(as_of)
        made = _Views(source)
        with self._views_lock:
            self._views[as_of] = made
            while len(self._views) > 9:
                oldest = next(k for k in self._views if k is not None)
                self._views.pop(oldest)
        return made

    def server_close(self) -> None:
        self.closing.set()
        super().server_close()


def make_server(
    contexta: Any,
    host: str = "127.0.0.1",
    port: int = 8080,
    *,
    read_only: bool = False,
    token: str | None = None,
) -> ContextaServer:
    """A server over ``contexta`` (not started: call ``serve_forever``)."""
    return ContextaServer(contexta, host, port, read_only=read_only, token=token)


def serve(
    contexta: Any,
    host: str = "127.0.0.1",
    port: int = 8080,
    *,
    read_only: bool = False,
    token: str | None = None,
) -> ContextaServer:
    """Serve until interrupted; returns the (closed) server."""
    server = make_server(contexta, host, port, read_only=read_only, token=token)
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return server


class ContextaRequestHandler(BaseHTTPRequestHandler):
    server: ContextaServer
    server_version = "ContextaHTTP/2.0"
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return None

    # ------------------------------------------------------------------ dispatch

    def do_GET(self) -> None:
        self._handle(self._get)

    def do_POST(self) -> None:
        self._handle(self._post)

    def _handle(self, method: Callable[[str, list[str], Query], None]) -> None:
        try:
            split = urlsplit(self.path)
            path = split.path.rstrip("/") or "/"
            parts = [unquote(part) for part in path.split("/") if part]
            if any(_leaves(part) for part in parts):
                raise Refused(
                    403,
                    "http_forbidden_path",
                    f"The path {split.path!r} leaves the workspace; it is refused.",
                )
            self._check_host()
            method(path, parts, parse_qs(split.query, keep_blank_values=False))
        except Refused as exc:
            self._json(exc.status, error_envelope(exc.code, exc.message))
        except NotFound as exc:
            self._json(404, error_envelope("http_not_found", str(exc)))
        except BadRequest as exc:
            self._json(400, error_envelope("http_bad_request", str(exc)))
        except ContextaError as exc:
            self._json(500, error_envelope(exc.code, str(exc), exc.details))
        except (BrokenPipeError, ConnectionResetError):
            return
        except ValueError as exc:
            self._json(400, error_envelope("http_bad_request", str(exc)))
        except Exception as exc:
            self._json(
                500,
                error_envelope(
                    "http_internal_error",
                    "Unexpected internal error.",
                    {"type": type(exc).__name__, "message": str(exc)},
                ),
            )

    def _check_host(self) -> None:
        bound = str(self.server.server_address[0])
        if not is_loopback(bound):
            return
        host = (self.headers.get("Host") or "").strip()
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        if name.strip("[]") not in ("localhost", "127.0.0.1", "::1", bound):
            raise Refused(
                403,
                "http_forbidden_host",
                f"Host {host!r} is not this server's address; request refused.",
            )

    # ------------------------------------------------------------------ GET

    def _get(self, path: str, parts: list[str], query: Query) -> None:
        if not parts:
            return self._redirect("/ui")
        if parts[0] == "ui":
            return self._ui(parts)
        if parts[0] == "api":
            return self._api_get(parts[1:], query)
        views = self.server.views(param(query, "as_of"))
        payload = answer_legacy(views.source, path, parts, query)
        if payload is None:
            raise NotFound(f"Unknown endpoint: {path}")
        self._json(200, payload)

    def _api_get(self, parts: list[str], query: Query) -> None:
        name = "/".join(parts)
        if name == "events":
            return self._events(query)
        if name == "artifact":
            return self._artifact(query)
        if name == "info":
            return self._json(200, self._info())
        views = self.server.views(param(query, "as_of"))
        source = views.source
        if name == "table":
            return self._json(200, api.table(source, views.table, query))
        if name == "run":
            return self._json(
                200, api.run_detail(source, api.text_of({"id": param(query, "id")}, "id"))
            )
        if name == "run/diagnostics":
            return self._json(200, to_jsonable(source.diagnose_run(param(query, "id") or "")))
        if name == "series":
            return self._json(200, api.series(source, views.series, query))
        if name == "compare":
            return self._json(200, api.compare(source, query))
        if name == "best":
            return self._json(200, api.best(source, query))
        raise NotFound(f"Unknown endpoint: /api/{name}")

    def _info(self) -> dict[str, Any]:
        ctx = self.server.contexta
        head = ctx.maintenance.head()
        projects = list(ctx.list_projects())
        preferred = getattr(ctx, "project_name", None)
        return {
            "workspace": Path(ctx.workspace).name,
            "read_only": self.server.read_only,
            "projects": projects,
            "head": head.seq,
            "default_project": preferred
            if preferred in projects
            else (projects[0] if projects else None),
            "actor": ctx.maintenance.actor,
        }

    # ------------------------------------------------------------------ POST (writes)

    def _post(self, path: str, parts: list[str], query: Query) -> None:
        body = self._checked_write()
        if parts[:2] != ["api", "quality"] or len(parts) != 3:
            raise NotFound(f"Unknown endpoint: {path}")
        action = parts[2]
        ctx = self.server.contexta
        runs = api.ids_of(body)
        with self.server.write_lock:
            if action == "tag":
                done = ctx.tag_runs(
                    api.text_of(body, "event_key"),
                    message=api.text_of(body, "message"),
                    run_ids=runs,
                )
            elif action == "quarantine":
                done = ctx.quarantine_runs(runs, reason=api.text_of(body, "reason"))
            elif action == "release":
                done = ctx.release_runs(runs, reason=api.text_of(body, "reason"))
            else:
                raise NotFound(f"Unknown endpoint: {path}")
        self._json(
            200,
            {
                "action": action,
                "runs": api.strings(done),
                "actor": ctx.maintenance.actor,
                "head": ctx.maintenance.head().seq,
            },
        )

    def _checked_write(self) -> dict[str, Any]:
        if self.server.read_only:
            raise Refused(
                403,
                "http_read_only",
                "This server was started with --read-only; writes are refused.",
            )
        given = self.headers.get(TOKEN_HEADER) or ""
        if not hmac.compare_digest(given.encode(), self.server.token.encode()):
            raise Refused(
                401,
                "http_token_required",
                f"A write needs the server's token in the {TOKEN_HEADER} header "
                "(printed when the server started).",
            )
        origin = self.headers.get("Origin")
        if origin is not None and origin.rstrip("/") != self._own_origin():
            raise Refused(
                403,
                "http_forbidden_origin",
                f"Writes from origin {origin!r} are refused (cross-site).",
            )
        if not (self.headers.get("Content-Type") or "").startswith("application/json"):
            raise Refused(415, "http_unsupported_media_type", "A write needs a JSON body.")
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise Refused(413, "http_body_too_large", f"The body exceeds {MAX_BODY} bytes.")
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except json.JSONDecodeError as exc:
            raise BadRequest(f"The body is not JSON: {exc}") from None
        if not isinstance(body, dict):
            raise BadRequest("The body must be a JSON object.")
        return body

    def _own_origin(self) -> str:
        return f"http://{self.headers.get('Host') or ''}"

    # ------------------------------------------------------------------ UI, files, events

    def _ui(self, parts: list[str]) -> None:
        if len(parts) >= 2 and parts[1] == "static":
            return self._file(STATIC_ROOT, parts[2:], cache=True)
        self._file(STATIC_ROOT, ["index.html"], cache=False)

    def _file(self, root: Path, parts: list[str], *, cache: bool) -> None:
        base = root.resolve()
        target = base.joinpath(*parts).resolve() if parts else base
        if not target.is_relative_to(base) or target == base:
            raise Refused(403, "http_forbidden_path", "The path leaves the served folder.")
        if not target.is_file():
            raise NotFound(f"Unknown file: {'/'.join(parts)}")
        data = target.read_bytes()
        kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if kind.startswith("text/") or kind.endswith("javascript"):
            kind += "; charset=utf-8"
        headers = {"Cache-Control": "max-age=3600" if cache else "no-store"}
        self._send(200, data, kind, headers)

    def _artifact(self, query: Query) -> None:
        ref = param(query, "ref")
        if not ref:
            raise BadRequest("Missing required query parameter: ref")
        ctx = self.server.contexta
        handle = ctx.artifact_store.get_artifact(ref)
        root = Path(ctx.workspace).resolve()
        path = Path(handle.path).resolve()
        if not path.is_relative_to(root):
            raise Refused(
                403,
                "http_forbidden_path",
                f"The body of {ref} lies outside the workspace; it is not served.",
            )
        name = ref.rsplit(".", 1)[-1] or "artifact"
        self._send(
            200,
            path.read_bytes(),
            "application/octet-stream",
            {"Content-Disposition": f'attachment; filename="{name}.bin"'},
        )

    def _events(self, query: Query) -> None:
        after = int_param(query, "after_seq", None)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        server = self.server
        try:
            for frame in stream(server.contexta, after, lambda: not server.closing.is_set()):
                self.wfile.write(frame)
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, OSError):
            return

    # ------------------------------------------------------------------ responses

    def _json(self, status: int, payload: Any) -> None:
        body = json.dumps(payload, ensure_ascii=True, sort_keys=True).encode("utf-8")
        self._send(status, body, "application/json; charset=utf-8")

    def _redirect(self, location: str) -> None:
        self._send(302, b"", "text/plain", {"Location": location})

    def _send(
        self, status: int, body: bytes, kind: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
