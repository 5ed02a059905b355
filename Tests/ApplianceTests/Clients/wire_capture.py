"""Shared plumbing for the SDK client scripts: an httpx transport that records what went over the
wire, and a scenario runner that prints one JSON line per scenario.

The official SDKs stay unchanged: they get an ordinary `httpx.Client` (trusting exactly the
appliance's certificate) whose transport is wrapped so that the exact request body bytes the SDK
sent and the exact response bytes it received (streams included, chunk by chunk as the SDK read
them) are kept for the independent verifier.
"""
import json
import sys
import traceback

try:
    import httpx2 as httpx  # the SDK generation installed here ships httpx as httpx2
except ImportError:  # older SDKs import plain httpx
    import httpx


class Exchange:
    def __init__(self, method, url, request_body):
        self.method = method
        self.url = url
        self.request_body = request_body
        self.status = None
        self.content_type = ""
        self.chunks = []

    @property
    def response_body(self) -> bytes:
        return b"".join(self.chunks)


class _TeeStream(httpx.SyncByteStream):
    """Hands the SDK every response chunk as it arrives, keeping a copy."""

    def __init__(self, inner, sink):
        self.inner = inner
        self.sink = sink

    def __iter__(self):
        for chunk in self.inner:
            self.sink.append(bytes(chunk))
            yield chunk

    def close(self):
        self.inner.close()


class RecordingTransport(httpx.BaseTransport):
    def __init__(self, inner):
        self.inner = inner
        self.exchanges = []

    def handle_request(self, request):
        body = request.read()
        exchange = Exchange(request.method, str(request.url), body)
        self.exchanges.append(exchange)
        response = self.inner.handle_request(request)
        exchange.status = response.status_code
        exchange.content_type = response.headers.get("content-type", "")
        encoding = response.headers.get("content-encoding", "identity")
        if encoding not in ("", "identity"):
            raise AssertionError(f"response is {encoding}-encoded; the recorder keeps raw bytes only")
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=_TeeStream(response.stream, exchange.chunks),
            extensions=response.extensions,
            request=request,
        )

    def close(self):
        self.inner.close()

    def last(self, path_suffix) -> Exchange:
        """The most recent exchange whose URL path ends with `path_suffix`."""
        for exchange in reversed(self.exchanges):
            if exchange.url.split("?")[0].endswith(path_suffix):
                return exchange
        raise AssertionError(f"no request to …{path_suffix} was recorded")


def recording_client(cert_path):
    """An httpx client trusting exactly `cert_path`, and the recorder behind it."""
    recorder = RecordingTransport(httpx.HTTPTransport(verify=cert_path))
    return httpx.Client(verify=cert_path, transport=recorder, timeout=60.0), recorder


def check(condition, message):
    if not condition:
        raise AssertionError(message)


class Scenarios:
    """Runs named scenarios; each returns a dict of what it checked. Prints one JSON line each."""

    def __init__(self, client_name):
        self.client_name = client_name
        self.failed = []

    def run(self, name, function):
        try:
            checked = function()
            line = {"client": self.client_name, "scenario": name, "ok": True, "checked": checked}
            print(json.dumps(line), flush=True)
        except Exception as error:  # every failure becomes a line and a non-zero exit, never a crash
            self.failed.append(name)
            print(
                json.dumps(
                    {
                        "client": self.client_name,
                        "scenario": name,
                        "ok": False,
                        "error": f"{type(error).__name__}: {error}",
                    }
                ),
                flush=True,
            )
            traceback.print_exc(file=sys.stderr)

    def exit(self):
        summary = {"client": self.client_name, "failed": self.failed}
        print(json.dumps(summary), flush=True)
        sys.exit(1 if self.failed else 0)
