#!/usr/bin/env python3
"""A CGI script in Python: echoes the request's CGI variables and form fields as an HTML page."""
import html
import os
import sys
from urllib.parse import parse_qsl

NAMES = [
    "GATEWAY_INTERFACE", "SERVER_SOFTWARE", "SERVER_PROTOCOL", "REQUEST_METHOD", "SCRIPT_NAME",
    "PATH_INFO", "QUERY_STRING", "REMOTE_ADDR", "CONTENT_TYPE", "CONTENT_LENGTH",
]

body = ""
if os.environ.get("REQUEST_METHOD") == "POST":
    body = sys.stdin.read(int(os.environ.get("CONTENT_LENGTH") or 0))
fields = parse_qsl(os.environ.get("QUERY_STRING", "")) + parse_qsl(body)

rows = "".join(
    "<tr><td>%s</td><td>%s</td></tr>\n" % (name, html.escape(os.environ.get(name, "")))
    for name in NAMES
)
items = "".join(
    "<li>%s = %s</li>\n" % (html.escape(key), html.escape(value)) for key, value in fields
)

sys.stdout.write("Content-Type: text/html; charset=utf-8\r\n\r\n")
sys.stdout.write(
    "<html>\n<head><title>CGI environment</title></head>\n<body>\n"
    "<h3>Hello from a CGI Python script!</h3>\n"
    "<table>\n%s</table>\n<p>Form fields:</p>\n<ul>\n%s</ul>\n"
    '<form method="post" action=""><input name="name" value="srv"> <button>POST it</button></form>\n'
    "</body>\n</html>\n" % (rows, items)
)
