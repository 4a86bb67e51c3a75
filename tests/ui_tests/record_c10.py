"""Record Contexta 1.0's HTTP answers for the scenario (run with 1.0's interpreter):

    /root/c10/bin/python tests/ui_tests/record_c10.py tests/ui_tests/data/c10_routes.json

Writes {label: {"path", "status", "body"}} for every route of ``scenario.ROUTES``.
"""

from __future__ import annotations

import json
import sys
import tempfile
import threading
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from scenario import ROUTES, build

from contexta.surfaces.http import make_server


def fetch(base: str, path: str) -> tuple[int, object]:
    try:
        with urllib.request.urlopen(base + path) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def main(out: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        ctx = build(Path(tmp) / "ws")
        server = make_server(ctx, port=0)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        base = f"http://127.0.0.1:{server.server_address[1]}"
        answers = {}
        for label, path in ROUTES:
            status, body = fetch(base, path)
            answers[label] = {"path": path, "status": status, "body": body}
        server.shutdown()
        server.server_close()
    text = json.dumps(answers, indent=1, sort_keys=True).replace(tmp, "<tmp>")
    Path(out).write_text(text + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
