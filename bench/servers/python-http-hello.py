# Python's http.server at its best for a hello world: ThreadingHTTPServer, HTTP/1.1 keep-alive,
# Content-Length, TCP_NODELAY, no access log.
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BODY = b"Hello World\n"


class HelloHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out as two writes: with Nagle on, every keep-alive response would wait for
    # the client's delayed ACK (~40 ms) and the figure would measure that timer, not Python.
    disable_nagle_algorithm = True

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, format, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), HelloHandler).serve_forever()
