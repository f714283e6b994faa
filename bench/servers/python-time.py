# The tutorial's time server (its TCPServer section), ported from Python 2 to 3 and nothing else
# changed: ThreadingMixIn, allow_reuse_address, one line per connection, a print per connection.
# Listens on 127.0.0.1:$PORT for the bench instead of ('', 8765).
import os
import time
from socketserver import StreamRequestHandler, TCPServer, ThreadingMixIn


class TimeRequestHandler(StreamRequestHandler):
    def handle(self):
        print('[%s] -- connected from:%s' % (time.strftime('%Y-%m-%d %H:%M:%S', time.localtime()), self.client_address))
        req = self.rfile.readline().strip()
        if req == b"asctime":
            result = time.asctime()
        elif req == b"seconds":
            result = str(int(time.time()))
        elif req == b"rfc822":
            result = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime())
        else:
            result = """
				Unhandled request. Send a line with one of the following words:
				asctime -- for human-readable time
				seconds -- seconds since the Unix Epoch
				rfc822 -- date/time in format used for mail and posts
			"""
        self.wfile.write((result + "\n").encode())


class TimeServer(ThreadingMixIn, TCPServer):
    allow_reuse_address = 1


serveraddr = ('127.0.0.1', int(os.environ['PORT']))
srvr = TimeServer(serveraddr, TimeRequestHandler)
srvr.serve_forever()
