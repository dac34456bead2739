"""The backend behind mod_proxy in tests and the demo: it answers every request with what it
received. JSON by default ({"method", "path", "headers": [[name, value], ...], "body"}); an
HTML page when the client prefers text/html (browsers, the demo).

Run: /usr/bin/python3 echo_backend.py --port 9000
"""
import argparse
import html
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

IDENTITY_PREFIX = "x-remote-"


def _utf8(text):
    """http.server decodes header bytes as latin-1; the module sends UTF-8."""
    try:
        return text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


class EchoHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "echo-backend"

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        seen = {
            "method": self.command,
            "path": self.path,
            "headers": [[k, _utf8(v)] for k, v in self.headers.items()],
            "body": body.decode("utf-8", "replace"),
        }
        self.server.requests.append(seen)
        if "text/html" in (self.headers.get("Accept") or ""):
            payload = self._page(seen).encode()
            ctype = "text/html; charset=utf-8"
        else:
            payload = json.dumps(seen).encode()
            ctype = "application/json"
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    @staticmethod
    def _page(seen):
        def rows(pairs):
            return "".join("<tr><th>%s</th><td>%s</td></tr>" % (html.escape(k), html.escape(v))
                           for k, v in pairs)
        identity = [(k, v) for k, v in seen["headers"]
                    if k.lower().startswith(IDENTITY_PREFIX)]
        others = [(k, v) for k, v in seen["headers"]
                  if not k.lower().startswith(IDENTITY_PREFIX)]
        user = next((v for k, v in identity if k.lower() == "x-remote-user"), None)
        title = "Signed in as %s" % user if user else "No identity headers"
        return ("<!doctype html><html><head><meta charset='utf-8'><title>Echo backend</title>"
                "<style>body{font-family:sans-serif;margin:2em}th{text-align:left;padding-right:"
                "1em;white-space:nowrap}td{word-break:break-all}table.identity{background:"
                "#e6ffe6}</style></head><body><h1 id='who'>%s</h1>"
                "<p>%s %s reached the backend.</p><h2>Identity headers</h2>"
                "<table class='identity'>%s</table><h2>Other headers</h2><table>%s</table>"
                "</body></html>") % (html.escape(title), html.escape(seen["method"]),
                                     html.escape(seen["path"]), rows(identity), rows(others))

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _answer

    def log_message(self, fmt, *args):
        pass


class EchoBackend:
    """In-process backend: start(), .requests (what it received), stop()."""

    def __init__(self, port):
        self.port = port
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), EchoHandler)
        self.httpd.daemon_threads = True
        self.httpd.requests = []
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def requests(self):
        return self.httpd.requests

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=9000)
    args = parser.parse_args()
    backend = EchoBackend(args.port)
    print("echo backend on http://127.0.0.1:%d/" % args.port, flush=True)
    try:
        backend.httpd.serve_forever()
    except KeyboardInterrupt:
        pass
