"""The baseline of `scripts/bench --appliance`: an HTTPS server on loopback that answers every
POST with bytes recorded from the appliance a moment earlier (the same signed JSON answer, or
the same SSE stream for a body with "stream":true), and does nothing else. The same load
generator sends it the same request, so the appliance's added latency and cost are differences
measured in the same run. One asyncio process, no framework: about as cheap as an HTTP answer
gets in Python, and close to what upstream's own mock provider does.

    python3 mock_upstream.py --port 0 --cert C --key K --answer A.json --stream S.sse
"""
import argparse
import asyncio
import ssl
import sys


class Answering(asyncio.Protocol):
    def __init__(self, plain, stream):
        self.plain, self.stream, self.buffer = plain, stream, bytearray()

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buffer[:end]).lower()
            length = 0
            for line in head.split(b"\r\n")[1:]:
                if line.startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            if len(self.buffer) < end + 4 + length:
                return
            body = bytes(self.buffer[end + 4:end + 4 + length])
            del self.buffer[:end + 4 + length]
            self.transport.write(self.stream if b'"stream":true' in body else self.plain)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--answer", required=True, help="a JSON answer body to replay")
    parser.add_argument("--stream", required=True, help="an SSE stream body to replay (chunked)")
    args = parser.parse_args()
    answer = open(args.answer, "rb").read()
    plain = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(answer) + answer
    events = [e + b"\n\n" for e in open(args.stream, "rb").read().split(b"\n\n") if e]
    stream = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
    stream += b"".join(b"%x\r\n%s\r\n" % (len(e), e) for e in events) + b"0\r\n\r\n"
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.cert, args.key)

    async def serve():
        server = await asyncio.get_running_loop().create_server(
            lambda: Answering(plain, stream), "127.0.0.1", args.port, ssl=context, backlog=1024)
        print(f"listening {server.sockets[0].getsockname()[1]}", flush=True)
        await server.serve_forever()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
