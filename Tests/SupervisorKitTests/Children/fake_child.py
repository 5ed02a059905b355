"""Stand-ins for key-service, tls-front and inference-worker in supervisor tests.

Usage: fake_child.py ROLE [the real program's arguments...]

Each fake speaks exactly the contract the supervisor relies on, and nothing more:
- key-service: the EnclaveIPC framing (u32 big-endian length + JSON) and answers `ready` and
  `health` (tee_id 0x11…11);
- inference-worker: `GET /health` → 200 over its Unix socket;
- tls-front: the control protocol (`status`, `workers LIST`) on its control socket.
Every start, control command and stop is appended to $FAKE_EVENTS as one line, so tests can
check the order things happened in. SIGTERM makes a fake record `stop` and exit 0.
Behaviour switches (environment): FAKE_NEVER_READY=ROLE never becomes ready;
FAKE_READY_DELAY=seconds before listening.
"""
import base64
import json
import os
import signal
import socket
import struct
import sys
import threading
import time

role = sys.argv[1]
args = sys.argv[2:]


def option(name):
    if name in args:
        return args[args.index(name) + 1]
    return None


def unix_path(endpoint):
    assert endpoint.startswith("unix://"), endpoint
    return endpoint[len("unix://"):]


listen = option("--listen")
name = os.path.basename(unix_path(listen)).removesuffix(".sock") if role == "worker" else role
events = os.environ["FAKE_EVENTS"]
lock = threading.Lock()


def record(line):
    with lock:
        with open(events, "a") as f:
            f.write(f"{line}\n")


def on_term(signum, frame):
    record(f"stop {name}")
    print(f"{name} stopping", flush=True)
    os._exit(0)


signal.signal(signal.SIGTERM, on_term)
# Children inherit the signal mask of the supervisor thread that spawned them, and Dispatch's
# worker threads block SIGTERM; unblock it, or the supervisor's SIGTERM never arrives here.
signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
record(f"start {name} {' '.join(args)}")
print(f"fake {name} up (pid {os.getpid()})", flush=True)
print(f"fake {name} diagnostics on stderr", file=sys.stderr, flush=True)
time.sleep(float(os.environ.get("FAKE_READY_DELAY", "0")))
if os.environ.get("FAKE_NEVER_READY") == role:
    while True:
        time.sleep(1)


def serve(path, handle):
    if os.path.exists(path):
        os.unlink(path)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(16)
    while True:
        connection, _ = server.accept()
        threading.Thread(target=handle, args=(connection,), daemon=True).start()


def read_exact(connection, count):
    data = b""
    while len(data) < count:
        chunk = connection.recv(count - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def key_service(connection):
    with connection:
        while True:
            head = read_exact(connection, 4)
            if head is None:
                return
            message = json.loads(read_exact(connection, struct.unpack(">I", head)[0]))
            if message["type"] == "ready":
                reply = {"id": message["id"], "type": "ready", "ready": True}
            elif message["type"] == "health":
                # A fixed tee_id (0x11…11), which the supervisor binds signed host commands to.
                reply = {"id": message["id"], "type": "health", "teeID": base64.b64encode(bytes([0x11] * 32)).decode(),
                         "teeEnabled": False, "providers": [], "uptimeSeconds": 1}
            else:
                reply = {"id": message["id"], "type": "error", "code": "forbidden", "message": "fake"}
            body = json.dumps(reply).encode()
            connection.sendall(struct.pack(">I", len(body)) + body)


def worker(connection):
    with connection:
        request = b""
        while b"\r\n\r\n" not in request:
            chunk = connection.recv(4096)
            if not chunk:
                return
            request += chunk
        if request.startswith(b"GET /health "):
            connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        else:
            connection.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")


workers = (option("--workers") or "").split(",")


def tls_front(connection):
    global workers
    with connection:
        line = b""
        while not line.endswith(b"\n"):
            chunk = connection.recv(4096)
            if not chunk:
                break
            line += chunk
        command = line.decode().strip()
        record(f"tls-front {command}")
        listed = [w for w in workers if w]
        if command == "status":
            reply = (f"ok listen=tcp://127.0.0.1:18443 certificate-sha256={'ab' * 32} "
                     f"workers-ready={len(listed)} workers-total={len(listed)} in-flight=0")
        elif command.startswith("workers"):
            workers = command[len("workers"):].strip().split(",")
            listed = [w for w in workers if w]
            reply = f"ok workers-ready={len(listed)} workers-total={len(listed)}"
        else:
            reply = "error unknown command"
        connection.sendall((reply + "\n").encode())


if role == "key-service":
    serve(unix_path(listen), key_service)
elif role == "worker":
    serve(unix_path(listen), worker)
elif role == "tls-front":
    with open(option("--certificate-out"), "w") as f:
        f.write("-----BEGIN CERTIFICATE-----\nZmFrZQ==\n-----END CERTIFICATE-----\n")
    serve(unix_path(option("--control")), tls_front)
else:
    sys.exit(f"unknown role {role}")
