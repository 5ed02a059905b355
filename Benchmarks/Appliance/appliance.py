"""`scripts/bench --appliance`: the whole appliance under load, with its baselines, in one run.

Starts the release build's `supervisor --dev --workers 2` (local model) on loopback and prints,
as markdown tables: the RSA-2048 signing rate of OpenSSL 3 (key-service's signer) on one core
and all cores, which bounds the appliance; signed answers/s with p50/p99 at 1, 8 and 64
connections (wrk, a 2-line chat body), beside the same request answered by a mock upstream
(recorded answer bytes replayed over TLS); the ratio of throughput to the signing bound; CPU
time per answer of every process (from /proc/PID/stat), and in all in units of one signature
measured in the same run; what Oblivious HTTP adds per suite (the same request sealed to
/v1/ohttp, latency and CPU per answer beside the plain rows); time to first byte of streams,
beside the mock's; memory of every process idle (RSS, PSS and private), after the load, and under
256 open streams (RSS).
Everything stays on 127.0.0.0/8.
"""
import argparse
import asyncio
import json
import os
import re
import signal
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import http.client

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import ohttp_bodies  # noqa: E402
import streams  # noqa: E402

CHAT_BODY = json.dumps({
    "model": "local",
    "messages": [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Say hello"}],
}, separators=(",", ":"))
TICKS = os.sysconf("SC_CLK_TCK")


def log(text):
    print(text, file=sys.stderr, flush=True)


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def memory_mib(pid):
    """RSS, PSS and private memory (MiB). RSS counts every shared page in full (the Swift
    runtime, Foundation and the executable's code, which all processes and workers share); PSS
    divides each by its sharers; private (clean + dirty) counts the pages no other process maps:
    for a worker, of which the pool runs several, what one more worker adds."""
    fields = {}
    for line in open(f"/proc/{pid}/smaps_rollup"):
        name, _, rest = line.partition(":")
        if rest.strip().endswith("kB"):
            fields[name] = int(rest.split()[0]) / 1024
    return fields["Rss"], fields["Pss"], fields["Private_Clean"] + fields["Private_Dirty"]


def rss_mib(pid):
    return memory_mib(pid)[0]


def openssl_rate(arguments):
    output = subprocess.run(["openssl", "speed", "-seconds", "3", *arguments, "rsa2048"],
                            capture_output=True, text=True, check=True).stdout
    for line in output.splitlines():
        if re.match(r"^rsa\s+2048", line):
            return float(line.split()[-2])
    raise RuntimeError(f"no rsa 2048 line in openssl speed output:\n{output}")


class Appliance:
    """`supervisor --dev` in a private runtime directory; `processes` maps a name to its pid."""

    def __init__(self, bin_dir, workers, worker_args=()):
        self.directory = tempfile.mkdtemp(prefix="bench-appliance-")
        self.environment = dict(os.environ, XDG_RUNTIME_DIR=self.directory)
        self.bin_dir = bin_dir
        arguments = [f"{bin_dir}/supervisor", "--dev", "--port", "0", "--workers", str(workers),
                     "--runtime-dir", self.directory] + [f"--worker-arg={a}" for a in worker_args]
        self.process = subprocess.Popen(arguments, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        env=self.environment, text=True)
        self.url = None
        self.lines = []  # everything the appliance printed (its children's tagged log lines)
        ready = threading.Event()

        def read():
            for line in self.process.stdout:
                self.lines.append(line.rstrip("\n"))
                if line.startswith("  URL:"):
                    self.url = line.split()[-1]
                    ready.set()
        threading.Thread(target=read, daemon=True).start()
        if not ready.wait(120):
            self.stop()
            raise RuntimeError("the appliance did not become ready within 120 s")
        self.certificate = f"{self.directory}/tls-cert.pem"
        status = subprocess.run([f"{bin_dir}/supervisor", "ctl", "status"], env=self.environment,
                                capture_output=True, text=True, check=True).stdout
        self.processes = {"supervisor": self.process.pid}
        for line in status.splitlines()[1:]:
            words = line.split()
            if len(words) > 1 and words[1].startswith("pid=") and words[1] != "pid=-":
                self.processes[words[0]] = int(words[1][4:])

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def wrk(url, connections, seconds, marker="tee_signature", bodies=None):
    """One wrk run of chat.lua: the chat body, or with `bodies` the encapsulated requests in
    that file (OHTTP). Returns answers/s, answers, bad answers and errors, p50 and p99 in ms."""
    threads = 1 if connections == 1 else 2
    environment = dict(os.environ, BENCH_BODY=CHAT_BODY, BENCH_MARKER=marker)
    if bodies:
        environment["BENCH_BODIES"] = bodies
    result = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
         "-s", f"{HERE}/chat.lua", url],
        capture_output=True, text=True, env=environment)
    values = dict(re.findall(r"(\w+)=(\d+)", " ".join(l for l in result.stdout.splitlines() if l.startswith("BENCH "))))
    if "requests" not in values:
        raise RuntimeError(f"wrk failed:\n{result.stdout}\n{result.stderr}")
    requests, unsigned = int(values["requests"]), int(values["unsigned"])
    return {
        "rate": (requests - unsigned) / (int(values["duration_us"]) / 1e6),
        "answers": requests - unsigned, "bad": unsigned + int(values["errors"]),
        "p50": int(values["p50_us"]) / 1000, "p99": int(values["p99_us"]) / 1000,
    }


def fetch(url, cafile, body):
    """One POST; returns the body (de-chunked)."""
    parts = url.split("/", 3)
    host, port = parts[2].rsplit(":", 1)
    connection = http.client.HTTPSConnection(host, int(port), context=ssl.create_default_context(cafile=cafile))
    connection.request("POST", "/" + parts[3], body=body, headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    data = response.read()
    if response.status != 200:
        raise RuntimeError(f"recording an answer: HTTP {response.status}: {data[:300]!r}")
    return data


def start_mock(directory, answer, stream):
    key, cert = f"{directory}/mock-key.pem", f"{directory}/mock-cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    open(f"{directory}/answer.json", "wb").write(answer)
    open(f"{directory}/stream.sse", "wb").write(stream)
    process = subprocess.Popen([sys.executable, f"{HERE}/mock_upstream.py", "--cert", cert, "--key", key,
                                "--answer", f"{directory}/answer.json", "--stream", f"{directory}/stream.sse"],
                               stdout=subprocess.PIPE, text=True)
    port = int(process.stdout.readline().split()[1])
    return process, f"https://127.0.0.1:{port}/v1/chat/completions", cert


def percentile(samples, p):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True, help="directory with the release executables")
    parser.add_argument("--seconds", type=int, default=8, help="length of each wrk run")
    parser.add_argument("--connections", default="1,8,64")
    args = parser.parse_args()
    cores = os.cpu_count()
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "unknown CPU")
    load = open("/proc/loadavg").read().split()[:3]

    log("measuring OpenSSL 3's RSA-2048 signing rate (key-service's signer)…")
    one, every = openssl_rate([]), openssl_rate(["-multi", str(cores)])

    log("starting the appliance (supervisor --dev --workers 2)…")
    appliance = Appliance(args.bin, workers=2)
    mock = None
    try:
        url = appliance.url + "/v1/chat/completions"
        time.sleep(2)
        idle = {name: memory_mib(pid) for name, pid in appliance.processes.items()}
        answer = fetch(url, appliance.certificate, CHAT_BODY)
        stream = fetch(url, appliance.certificate, streams.STREAM_BODY)
        mock, mock_url, mock_cert = start_mock(appliance.directory, answer, stream)
        log("warming up (2 s)…")
        wrk(url, 8, 2)
        wrk(mock_url, 8, 1)

        rows = []
        for connections in [int(c) for c in args.connections.split(",")]:
            log(f"{connections} connection(s): appliance, then mock upstream ({args.seconds} s each)…")
            before = {name: cpu_seconds(pid) for name, pid in appliance.processes.items()}
            ours = wrk(url, connections, args.seconds)
            after = {name: cpu_seconds(pid) for name, pid in appliance.processes.items()}
            cost = {name: 1000 * (after[name] - before[name]) / max(ours["answers"], 1) for name in before}
            mock_before = cpu_seconds(mock.pid)
            theirs = wrk(mock_url, connections, args.seconds)
            mock_cost = 1000 * (cpu_seconds(mock.pid) - mock_before) / max(theirs["answers"], 1)
            rows.append((connections, ours, theirs, cost, mock_cost))

        log("Oblivious HTTP: sealing requests for each suite and verifying one answer of each…")
        sealed = ohttp_bodies.prepare(appliance.url, appliance.certificate, CHAT_BODY, appliance.directory)
        ohttp_rows = []
        for suite, bodies in sealed.items():
            for connections, plain, _, plain_cost, _ in rows:
                log(f"OHTTP {suite}, {connections} connection(s) ({args.seconds} s)…")
                before = {name: cpu_seconds(pid) for name, pid in appliance.processes.items()}
                sealed_run = wrk(appliance.url + "/v1/ohttp", connections, args.seconds, bodies=bodies)
                after = {name: cpu_seconds(pid) for name, pid in appliance.processes.items()}
                cost = sum(after[n] - before[n] for n in before) * 1000 / max(sealed_run["answers"], 1)
                ohttp_rows.append((suite, connections, sealed_run, cost, plain, sum(plain_cost.values())))
        loaded = {name: rss_mib(pid) for name, pid in appliance.processes.items()}

        log("time to first byte of streams: 300 in a row on one connection, appliance then mock…")
        ttfb, ttfb_errors = asyncio.run(streams.sequential_ttfb(url, appliance.certificate, 300))
        mock_ttfb, _ = asyncio.run(streams.sequential_ttfb(mock_url, mock_cert, 300))
    finally:
        if mock:
            mock.terminate()
        appliance.stop()

    log("256 open streams (second appliance, local model with a 250 ms token delay)…")
    slow = Appliance(args.bin, workers=2, worker_args=["--local-token-delay-ms", "250"])
    try:
        under = {}

        def sample():
            under.update({name: rss_mib(pid) for name, pid in slow.processes.items()})
        outcomes = asyncio.run(streams.run_streams(slow.url + "/v1/chat/completions", slow.certificate, 256, on_all_open=sample))
        stream_failures = [o.error for o in outcomes if o.error]
    finally:
        slow.stop()

    workers = sorted(name for name in appliance.processes if name.startswith("worker"))
    print(f"\nMachine: {cpu}, {cores} cores; load average before the run {' '.join(load)}; wrk {args.seconds} s per row, "
          f"2-line chat body, local model, release build, key-service signing with OpenSSL 3.")
    print(f"Signing bound (openssl speed rsa2048): {one:,.0f}/s on one core, {every:,.0f}/s on {cores} cores.\n")
    print("| connections | appliance answers/s | p50 | p99 | mock answers/s | mock p50 | mock p99 | added p50 | ÷ bound | errors |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for connections, ours, theirs, _, _ in rows:
        print(f"| {connections} | {ours['rate']:,.0f} | {ours['p50']:.2f} ms | {ours['p99']:.2f} ms | {theirs['rate']:,.0f} | "
              f"{theirs['p50']:.2f} ms | {theirs['p99']:.2f} ms | {ours['p50'] - theirs['p50']:+.2f} ms | "
              f"{ours['rate'] / every:.2f} | {ours['bad']} |")
    names = ["tls-front", "key-service"] + workers + ["supervisor"]
    # "In signatures": the total divided by one signature's CPU time on one core in this run,
    # which cancels most of what a busy machine does to both.
    print("\nCPU per answer (ms), from /proc/PID/stat utime+stime over each run:\n")
    print("| connections | " + " | ".join(names) + " | appliance total | in signatures | mock upstream |")
    print("|---" * (len(names) + 4) + "|")
    for connections, _, _, cost, mock_cost in rows:
        print(f"| {connections} | " + " | ".join(f"{cost.get(n, float('nan')):.3f}" for n in names)
              + f" | {sum(cost.values()):.3f} | {sum(cost.values()) * one / 1000:.2f} | {mock_cost:.3f} |")
    print("\nOblivious HTTP (POST /v1/ohttp, the same chat request as Binary HTTP, sealed beforehand; "
          "the gateway opens, answers, signs and seals every one), beside the plain rows above:\n")
    print("| suite | connections | answers/s | p50 | p99 | added p50 | CPU per answer | added CPU | errors |")
    print("|---|---|---|---|---|---|---|---|---|")
    for suite, connections, run, cost, plain, plain_cost in ohttp_rows:
        print(f"| {suite} | {connections} | {run['rate']:,.0f} | {run['p50']:.2f} ms | {run['p99']:.2f} ms | "
              f"{run['p50'] - plain['p50']:+.2f} ms | {cost:.3f} ms | {cost - plain_cost:+.3f} ms | {run['bad']} |")
    print(f"\nStreams, time to first byte over 300 in a row on one connection: appliance p50 "
          f"{1000 * statistics.median(ttfb):.2f} ms, p99 {1000 * percentile(ttfb, 99):.2f} ms; mock p50 "
          f"{1000 * statistics.median(mock_ttfb):.2f} ms, p99 {1000 * percentile(mock_ttfb, 99):.2f} ms; "
          f"{len(ttfb_errors)} improper ends.")
    print("\nMemory (MiB; RSS unless named; see memory_mib for PSS and private):\n")
    print("| process | idle RSS | idle PSS | idle private | after the load | 256 open streams |")
    print("|---|---|---|---|---|---|")
    for name in names:
        slow_name = name if name in slow.processes else None
        rss, pss, private = idle.get(name, (float("nan"),) * 3)
        print(f"| {name} | {rss:.1f} | {pss:.1f} | {private:.1f} | {loaded.get(name, float('nan')):.1f} | "
              f"{under.get(slow_name, float('nan')) if slow_name else float('nan'):.1f} |")
    print(f"\n256 open streams: {256 - len(stream_failures)} ended with a signed chunk and [DONE], "
          f"{len(stream_failures)} failed{': ' + stream_failures[0] if stream_failures else ''}.")


if __name__ == "__main__":
    main()
