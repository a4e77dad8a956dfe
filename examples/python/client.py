#!/usr/bin/env python3
"""A testwire subscriber in Python: connect to /ws, subscribe, print events, exit after test.completed.

Needs the `websockets` package (Debian: apt-get install -y python3-websockets; or pip install websockets).

    /usr/bin/python3 client.py                                 # http://127.0.0.1:7357, patterns test.*
    /usr/bin/python3 client.py --url http://127.0.0.1:7357 --patterns 'test.*' 'performance.*'
    /usr/bin/python3 client.py --json --runs 4                 # NDJSON, stop after 4 runs completed

Exit codes: 0 done, 1 a run failed (with --exit-status), 3 cannot connect / unauthorized, 130 Ctrl-C.
"""

import argparse
import asyncio
import json
import os
import sys
from urllib.parse import urlsplit

try:
    import websockets
except ImportError:  # pragma: no cover - depends on the machine
    sys.stderr.write(
        "testwire client.py: the Python package 'websockets' is missing: "
        "apt-get install -y python3-websockets (then run /usr/bin/python3) or pip install websockets\n"
    )
    sys.exit(3)

MARKS = {"passed": "✓", "failed": "✗", "skipped": "○", "todo": "✎"}


def ws_url(url: str) -> str:
    """http://host:port[/ws] or ws://host:port/ws -> ws://host:port/ws"""
    if "://" not in url:
        url = "http://" + url
    parts = urlsplit(url)
    scheme = "wss" if parts.scheme in ("https", "wss") else "ws"
    base = parts.path.rstrip("/")
    if base.endswith("/ws"):
        base = base[: -len("/ws")]
    return f"{scheme}://{parts.netloc}{base}/ws"


def describe(event: dict) -> str:
    """One readable line for an event envelope {type, timestamp, seq, runId, data}."""
    kind, data = event["type"], event.get("data", {})
    if kind == "test.started":
        return f"{data.get('framework')} {data.get('project', '')} started: {data.get('totalTests', 0)} tests"
    if kind == "test.result":
        title = " › ".join(data.get("titlePath") or [data.get("testName", "")])
        line = f"{MARKS.get(data.get('status'), '?')} {title} ({round(data.get('duration', 0))} ms)"
        error = data.get("error") or {}
        # summary: what failed on one line ("expected 3, received 2"); older reporters send only the message.
        said = error.get("summary") or (error.get("message") or "").strip().split("\n")[0]
        if data.get("status") == "failed" and said:
            line += "  " + said
        return line
    if kind == "test.progress":
        return f"{data.get('completed')}/{data.get('total')} {data.get('status')} {data.get('testName') or ''}".rstrip()
    if kind == "test.completed":
        s = data.get("summary", {})
        verdict = "passed" if s.get("success") else "failed"
        # todo is a testwire addition to the summary (absent from producers that do not count it): 0 then.
        return (
            f"{data.get('framework')} {verdict}: {s.get('passed', 0)} passed, {s.get('failed', 0)} failed, "
            f"{s.get('skipped', 0)} skipped, {s.get('todo', 0)} todo of {s.get('total', 0)} "
            f"in {round(s.get('duration', 0))} ms"
        )
    return json.dumps(data, separators=(",", ":"))[:200]


async def run(args: argparse.Namespace) -> int:
    headers = {"Authorization": f"Bearer {args.api_key}"} if args.api_key else {}
    # websockets >= 14 renamed extra_headers to additional_headers.
    major = int(websockets.__version__.split(".")[0])
    header_kw = "additional_headers" if major >= 14 else "extra_headers"
    url = ws_url(args.url)
    completed_runs, failed = set(), False
    try:
        async with websockets.connect(url, **{header_kw: headers}, max_size=None, open_timeout=5) as ws:
            subscribe = {"type": "subscribe", "id": "py"}
            if args.events:
                subscribe["events"] = args.events
            if args.patterns:
                subscribe["patterns"] = args.patterns
            if args.until not in (args.events or []) and not any(
                p == "*" or (p.endswith(".*") and args.until.startswith(p[:-1])) for p in args.patterns or []
            ):
                # The exit condition must be received even if it is not printed.
                subscribe.setdefault("events", []).append(args.until)
            await ws.send(json.dumps(subscribe))
            async for frame in ws:
                message = json.loads(frame)
                kind = message.get("type")
                if kind == "connection.established":
                    print(f"# connected to {args.url} (server {message.get('version')}, epoch {message.get('epoch')})", flush=True)
                    continue
                if kind == "error":
                    sys.stderr.write(f"testwire client.py: server error {message.get('code')}: {message.get('message')}\n")
                    continue
                if "seq" not in message or "data" not in message:
                    continue  # subscribed, pong, …
                if args.json:
                    print(json.dumps(message, separators=(",", ":")), flush=True)
                else:
                    print(f"{message['seq']:>6} {kind:<22} {describe(message)}", flush=True)
                if kind == "test.completed" and not message["data"].get("summary", {}).get("success", False):
                    failed = True
                if kind == args.until:
                    completed_runs.add(message.get("runId"))
                    if len(completed_runs) >= args.runs:
                        break
    except (ConnectionRefusedError, OSError) as error:
        if isinstance(error, ConnectionRefusedError) or getattr(error, "errno", None) in (111, 99):
            sys.stderr.write(f"testwire client.py: nothing is listening at {args.url}\n")
            return 3
        raise
    except websockets.exceptions.InvalidStatusCode as error:
        sys.stderr.write(f"testwire client.py: {args.url} refused the connection (HTTP {error.status_code})\n")
        return 3
    except websockets.exceptions.ConnectionClosed as error:
        sys.stderr.write(f"testwire client.py: connection closed before the end ({error})\n")
        return 1
    return 1 if (args.exit_status and failed) else 0


def main() -> int:
    default_url = os.environ.get("TESTWIRE_URL") or (
        f"http://{os.environ.get('TESTWIRE_HOST', '127.0.0.1')}:{os.environ.get('TESTWIRE_PORT', '7357')}"
    )
    parser = argparse.ArgumentParser(description="Print the events of a testwire endpoint.")
    parser.add_argument("--url", default=default_url, help="endpoint (default $TESTWIRE_URL or http://127.0.0.1:7357)")
    parser.add_argument("--api-key", default=os.environ.get("TESTWIRE_API_KEY"), help="API key ($TESTWIRE_API_KEY)")
    parser.add_argument("--events", nargs="*", help="exact event types, e.g. test.result test.completed")
    parser.add_argument("--patterns", nargs="*", help="patterns (default: test.*)")
    parser.add_argument("--json", action="store_true", help="print each envelope as one JSON line")
    parser.add_argument("--until", default="test.completed", help="exit after this event type (default test.completed)")
    parser.add_argument("--runs", type=int, default=1, help="... seen for this many runs (default 1)")
    parser.add_argument("--exit-status", action="store_true", help="exit 1 if a completed run failed")
    args = parser.parse_args()
    if not args.events and not args.patterns:
        args.patterns = ["test.*"]
    try:
        return asyncio.run(run(args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
