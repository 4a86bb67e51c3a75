"""The embedded HTTP server (Contexta 1.0's ``contexta.surfaces.http``) and the web UI.

``make_server(ctx, host, port)`` returns a server answering 1.0's JSON routes, the pages under
``/ui`` and their ``/api`` answers; ``serve`` runs one until interrupted.
"""

from .serializers import (
    environment_diff_payload,
    error_envelope,
    reproducibility_payload,
    run_summary_payload,
    to_jsonable,
)
from .server import TOKEN_HEADER, ContextaRequestHandler, ContextaServer, make_server, serve

__all__ = [
    "TOKEN_HEADER",
    "ContextaRequestHandler",
    "ContextaServer",
    "environment_diff_payload",
    "error_envelope",
    "make_server",
    "reproducibility_payload",
    "run_summary_payload",
    "serve",
    "to_jsonable",
]
