"""Opens many concurrent streamed chat requests over TLS and checks that each one ends properly.

Used by `scripts/bench --appliance` (time to first byte, memory under 256 open streams) and on its
own for the 10,000-stream check in docs/performance.md:

    python3 streams.py --url https://127.0.0.1:PORT --cacert DIR/tls-cert.pem --streams 10000

A stream passes when its status is 200, its body ends with `data: [DONE]` and the chunk before it
carries `tee_signature` (the signature itself is verified by the Swift load test in
Tests/ApplianceTests, which re-derives both hashes). Every connection comes from 127.0.0.1, as
from any one load generator: under `supervisor --dev` tls-front has no per-address cap.
"""
import argparse
import asyncio
import json
import ssl
import sys
import time
from urllib.parse import urlsplit

STREAM_BODY = json.dumps({
    "model": "local", "stream": True,
    "messages": [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Say hello to everyone here"}],
}, separators=(",", ":"))


class Outcome:
    def __init__(self):
        self.ttfb = None  # seconds from sending the request to the first body byte
        self.error = None


def request_bytes(host, port, path, body):
    return (f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n{body}").encode()


async def read_answer(reader, sent_at, outcome):
    """Reads one HTTP/1.1 answer (chunked or with content-length); returns status and body."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:] if ":" in l)}
    body = bytearray()
    if "content-length" in headers:
        body += await reader.readexactly(int(headers["content-length"]))
        outcome.ttfb = time.perf_counter() - sent_at
        return status, bytes(body)
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if outcome.ttfb is None:
            outcome.ttfb = time.perf_counter() - sent_at
        if size == 0:
            await reader.readuntil(b"\r\n")
            return status, bytes(body)
        body += await reader.readexactly(size + 2)
        del body[-2:]


def check_stream(status, body):
    text = body.decode("utf-8", "replace")
    if status != 200:
        return f"HTTP {status}: {text[:200]}"
    events = [e for e in text.split("\n\n") if e and not e.startswith(":")]
    if not events or events[-1] != "data: [DONE]":
        return f"stream does not end with data: [DONE] (last: {events[-1][:120] if events else 'nothing'})"
    if len(events) < 2 or "tee_signature" not in events[-2]:
        return "the chunk before [DONE] carries no tee_signature"
    return None


async def one_stream(url, context, body, progress, release, outcome, handshakes):
    parts = urlsplit(url)
    try:
        try:
            async with handshakes:
                reader, writer = await asyncio.open_connection(
                    parts.hostname, parts.port, ssl=context, server_hostname=parts.hostname, limit=1 << 20)
        finally:
            progress.connected()
        await release.wait()
        sent = time.perf_counter()
        writer.write(request_bytes(parts.hostname, parts.port, parts.path or "/v1/chat/completions", body))
        answer = asyncio.ensure_future(read_answer(reader, sent, outcome))
        # "Open" means the first body bytes arrived: the worker is generating for this client.
        while outcome.ttfb is None and not answer.done():
            await asyncio.sleep(0.01)
        progress.opened()
        status, text = await answer
        outcome.error = check_stream(status, text)
        writer.close()
    except Exception as error:  # noqa: BLE001 - every failure is counted and reported
        outcome.error = f"{type(error).__name__}: {error}"
        progress.opened()


class Progress:
    """Counts streams through the two phases: connected (TLS up), then opened (first bytes)."""

    def __init__(self, count):
        self.count, self.connections, self.opens = count, 0, 0
        self.all_connected, self.all_open = asyncio.Event(), asyncio.Event()

    def connected(self):
        self.connections += 1
        if self.connections == self.count:
            self.all_connected.set()

    def opened(self):
        self.opens += 1
        if self.opens == self.count:
            self.all_open.set()


async def run_streams(url, cafile, count, body=STREAM_BODY, on_all_open=None, timeout=600):
    """Connects `count` clients, then sends every request at once; calls `on_all_open()` once
    every stream has started (or failed), then waits for all to end. Returns the outcomes."""
    context = ssl.create_default_context(cafile=cafile)
    outcomes = [Outcome() for _ in range(count)]
    progress, release = Progress(count), asyncio.Event()
    handshakes = asyncio.Semaphore(256)
    tasks = [asyncio.ensure_future(one_stream(url, context, body, progress, release, outcomes[i], handshakes))
             for i in range(count)]
    await asyncio.wait_for(progress.all_connected.wait(), timeout)
    release.set()
    await asyncio.wait_for(progress.all_open.wait(), timeout)
    if on_all_open:
        result = on_all_open()
        if asyncio.iscoroutine(result):
            await result
    await asyncio.wait_for(asyncio.gather(*tasks), timeout)
    return outcomes


async def sequential_ttfb(url, cafile, count, body=STREAM_BODY):
    """`count` streams one after another on one keep-alive connection: time to first byte each."""
    parts = urlsplit(url)
    context = ssl.create_default_context(cafile=cafile)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port, ssl=context,
                                                   server_hostname=parts.hostname, limit=1 << 20)
    request = request_bytes(parts.hostname, parts.port, parts.path or "/v1/chat/completions", body)
    samples, errors = [], []
    for _ in range(count):
        outcome = Outcome()
        sent = time.perf_counter()
        writer.write(request)
        status, answer = await read_answer(reader, sent, outcome)
        error = check_stream(status, answer)
        if error:
            errors.append(error)
        samples.append(outcome.ttfb)
    writer.close()
    return samples, errors


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", required=True, help="https://127.0.0.1:PORT/v1/chat/completions")
    parser.add_argument("--cacert", required=True)
    parser.add_argument("--streams", type=int, default=256)
    args = parser.parse_args()
    started = time.monotonic()

    def report_open():
        print(f"all {args.streams} streams open after {time.monotonic() - started:.1f} s", flush=True)

    outcomes = asyncio.run(run_streams(args.url, args.cacert, args.streams, on_all_open=report_open))
    failed = [o.error for o in outcomes if o.error]
    print(f"{args.streams - len(failed)} of {args.streams} streams ended with a signed chunk and [DONE] "
          f"in {time.monotonic() - started:.1f} s; {len(failed)} failed")
    for error in sorted(set(failed))[:10]:
        print(f"  {failed.count(error)} x {error}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
