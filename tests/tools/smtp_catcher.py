#!/usr/bin/env python3
"""A mail catcher: an SMTP server on 127.0.0.1 that keeps every message it is given.

Usage: smtp_catcher.py DIR [PORT]

Each message is written to DIR as NNNNNN.eml (complete before it appears), its first
line an "X-Envelope-To:" header with the envelope's recipients. The port (an ephemeral
one unless PORT is given) is printed on stdout once the server listens.
"""

import asyncio
import itertools
import os
import sys

from aiosmtpd.smtp import SMTP


class Keep:
    def __init__(self, directory):
        self.directory = directory
        existing = [f for f in os.listdir(directory) if f.endswith(".eml")]
        self.numbers = itertools.count(len(existing))

    async def handle_DATA(self, server, session, envelope):
        path = os.path.join(self.directory, "%06d.eml" % next(self.numbers))
        content = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode("utf-8")
        with open(path + ".tmp", "wb") as out:
            out.write(("X-Envelope-To: %s\r\n" % ",".join(envelope.rcpt_tos)).encode())
            out.write(content)
        os.rename(path + ".tmp", path)
        return "250 OK"


async def main():
    directory = sys.argv[1]
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    keep = Keep(directory)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(keep, enable_SMTPUTF8=True), "127.0.0.1", port
    )
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


asyncio.run(main())
