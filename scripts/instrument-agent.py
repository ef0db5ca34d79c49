#!/usr/bin/env python3
"""Instrument monitoring agent: reports an instrument's state to its institution's node.

Runs on the instrument's PC and posts the state every INTERVAL seconds to

    POST {node}/api/v1/agent/instruments/{local_id}/state
    Authorization: Bearer {token}
    {"state": "idle|running|maintenance|fault", "note": "..."}

The token is the one the instrument manager issued for this instrument in the node's
admin UI; issuing a new one there makes the old one stop working. Python 3 standard
library only.

Usage:
    instrument-agent.py [--node URL] [--instrument LOCAL_ID] [--token-file PATH]
                        (--state STATE | --state-command COMMAND)
                        [--note TEXT] [--interval SECONDS] [--once]

Configuration (a flag wins over its environment variable):
    --node            ALLIANCE_NODE          the node's base URL, e.g. https://lab.dlut.edu.cn
    --instrument      ALLIANCE_INSTRUMENT    the instrument's local id, e.g. XPS-1
    --token-file      ALLIANCE_AGENT_TOKEN   the token is read from the environment
                                             variable, or from this file (first line);
                                             it is never taken as a flag, so it does not
                                             show in the process list
    --state           a fixed state: idle, running, maintenance or fault
    --state-command   a shell command whose output is the state, read anew each time:
                      the first word of its first line is the state, the rest of that
                      line is the note; a failing command reports "fault"
    --note            a note sent with a fixed state (at most 100 characters)
    --interval        seconds between posts (default 60)
    --once            post once and exit: 0 on success, 1 on failure

Examples:
    export ALLIANCE_NODE=https://lab.dlut.edu.cn ALLIANCE_INSTRUMENT=XPS-1
    export ALLIANCE_AGENT_TOKEN=...   # as shown when it was issued
    instrument-agent.py --state-command 'cat /var/run/xps.state'
    instrument-agent.py --state maintenance --note "annual calibration" --once

Network errors and server errors are retried with exponential backoff (up to five
minutes); a refused token or a refused state is reported and not retried at once. The
token is never printed.
"""

import argparse
import http.client
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

STATES = ("idle", "running", "maintenance", "fault")
MAX_NOTE_CHARS = 100
MAX_BACKOFF = 300.0
TIMEOUT = 15.0
COMMAND_TIMEOUT = 30.0


def log(message):
    """Writes a timestamped line to stderr."""
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    print(f"{stamp} {message}", file=sys.stderr, flush=True)


def clean_note(note):
    """Keeps a note within what the node accepts: no control characters, 100 at most."""
    note = "".join(ch if ch.isprintable() else " " for ch in note).strip()
    return note[:MAX_NOTE_CHARS]


def read_state(args):
    """The (state, note) to send now."""
    if args.state:
        return args.state, clean_note(args.note)
    try:
        done = subprocess.run(
            args.state_command,
            shell=True,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        return "fault", "state command timed out"
    if done.returncode != 0:
        return "fault", clean_note(f"state command exited with {done.returncode}")
    lines = done.stdout.strip().splitlines()
    words = lines[0].split(None, 1) if lines else []
    state = words[0].lower() if words else ""
    if state not in STATES:
        return "fault", clean_note(f"unknown state from command: {state!r}")
    return state, clean_note(words[1] if len(words) > 1 else "")


class Refused(Exception):
    """The node answered and refused: retrying the same post at once will not help."""


def post(url, token, state, note):
    """Posts one state; raises Refused, or OSError for network and server errors."""
    body = json.dumps({"state": state, "note": note}).encode("utf-8")
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "User-Agent": "alliance-instrument-agent/1",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            response.read()
    except http.client.HTTPException as e:
        raise OSError(f"broken answer from the node: {type(e).__name__}") from None
    except urllib.error.HTTPError as e:
        detail = e.read(500).decode("utf-8", "replace").strip()
        if e.code >= 500 or e.code == 429:
            raise OSError(f"node answered {e.code}: {detail}") from None
        if e.code in (401, 403):
            raise Refused(
                f"node refused the token ({e.code}): ask the instrument manager for a new one"
            ) from None
        raise Refused(f"node refused the report ({e.code}): {detail}") from None


def read_token(args):
    """The token from the environment or the token file; never from the command line."""
    token = os.environ.get("ALLIANCE_AGENT_TOKEN", "")
    if args.token_file:
        try:
            with open(args.token_file, encoding="utf-8") as f:
                token = f.readline()
        except OSError as e:
            sys.exit(f"cannot read the token file: {e.strerror}")
    token = token.strip()
    if not token:
        sys.exit("no token: set ALLIANCE_AGENT_TOKEN or pass --token-file")
    return token


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="Report an instrument's state to its institution's alliance node.",
    )
    parser.add_argument("--node", default=os.environ.get("ALLIANCE_NODE"))
    parser.add_argument("--instrument", default=os.environ.get("ALLIANCE_INSTRUMENT"))
    parser.add_argument("--token-file")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--state", choices=STATES)
    source.add_argument("--state-command")
    parser.add_argument("--note", default="")
    parser.add_argument("--interval", type=float, default=60.0)
    parser.add_argument("--once", action="store_true")
    args = parser.parse_args(argv)
    if not args.node:
        parser.error("no node: pass --node or set ALLIANCE_NODE")
    if not args.instrument:
        parser.error("no instrument: pass --instrument or set ALLIANCE_INSTRUMENT")
    if args.interval < 5:
        parser.error("--interval must be at least 5 seconds")
    return args


def main(argv=None):
    args = parse_args(argv)
    token = read_token(args)
    local_id = urllib.parse.quote(args.instrument, safe="")
    url = f"{args.node.rstrip('/')}/api/v1/agent/instruments/{local_id}/state"
    backoff = 0.0
    while True:
        state, note = read_state(args)
        try:
            post(url, token, state, note)
            if backoff or args.once:
                log(f"reported {state} for {args.instrument}")
            backoff = 0.0
            if args.once:
                return 0
            wait = args.interval
        except Refused as e:
            log(str(e))
            if args.once:
                return 1
            wait = max(args.interval, MAX_BACKOFF)
        except OSError as e:
            reason = getattr(e, "reason", None) or e
            if args.once:
                log(f"cannot reach the node: {reason}")
                return 1
            backoff = min(max(backoff * 2, 5.0), MAX_BACKOFF)
            log(f"cannot reach the node: {reason}; retrying in {backoff:.0f} s")
            wait = backoff
        time.sleep(wait)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
