"""A quiet local HTTP server for the download paths of the checkpoint tests."""
import functools
import http.server
import threading
from pathlib import Path
from typing import Any, Tuple

import pytest


class _Quiet(http.server.SimpleHTTPRequestHandler):

    def log_message(self, *args: Any) -> None:
        pass


def start_http_server(directory: Path, monkeypatch: pytest.MonkeyPatch
                      ) -> Tuple[http.server.ThreadingHTTPServer, str]:
    """Serve ``directory`` on 127.0.0.1 in a daemon thread, with the proxy
    variables unset; returns the server (the caller shuts it down) and its
    base URL ``http://127.0.0.1:<port>``."""
    for var in ('http_proxy', 'HTTP_PROXY', 'all_proxy', 'ALL_PROXY'):
        monkeypatch.delenv(var, raising=False)
    server = http.server.ThreadingHTTPServer(
        ('127.0.0.1', 0), functools.partial(_Quiet, directory=str(directory)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f'http://127.0.0.1:{server.server_address[1]}'
