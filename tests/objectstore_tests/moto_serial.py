"""A loopback S3 for the tests: moto's server application, one request at a time.

moto checks ``If-None-Match: *`` and then stores the object in two steps; its threaded server
could let two concurrent conditional creates of one key both succeed, which a real S3 never
does. Serialising the requests (a lock around the application, connections still served on
threads so keep-alive clients do not block each other) gives the tests S3's atomic create.

Usage: ``python moto_serial.py PORT`` (binds 127.0.0.1; prints ``ready`` once listening).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server


class Serialised:
    """WSGI middleware: the wrapped application handles one request at a time."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.lock = threading.Lock()

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        with self.lock:
            body = self.app(environ, start_response)
            try:
                return [b"".join(body)]
            finally:
                close = getattr(body, "close", None)
                if close is not None:
                    close()


def main() -> None:
    port = int(sys.argv[1])
    app = Serialised(DomainDispatcherApplication(create_backend_app))
    server = make_server("127.0.0.1", port, app, threaded=True, request_handler=MotoRequestHandler)
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
