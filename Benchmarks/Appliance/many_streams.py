"""N concurrent open streams through the whole appliance (docs/performance.md, "Many streams"):
starts `supervisor --dev --workers 2` with the local model slowed by a token delay, opens N
streams at once (streams.py), and when all have started prints every process's RSS and open
file descriptors; then waits for every stream to end and reports how each ended.

    .build-python/bin/python3 Benchmarks/Appliance/many_streams.py --bin .build/release --streams 10000
"""
import argparse
import asyncio
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import appliance as bench  # noqa: E402
import streams  # noqa: E402


def open_descriptors(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--streams", type=int, default=10000)
    parser.add_argument("--token-delay-ms", type=int, default=3000)
    args = parser.parse_args()
    app = bench.Appliance(args.bin, workers=2, worker_args=["--local-token-delay-ms", str(args.token_delay_ms)])
    started = time.monotonic()
    try:
        idle = {name: bench.rss_mib(pid) for name, pid in app.processes.items()}
        peak = {}

        def sample():
            print(f"all {args.streams} streams started after {time.monotonic() - started:.1f} s", flush=True)
            for name, pid in app.processes.items():
                peak[name] = (bench.rss_mib(pid), open_descriptors(pid))
        outcomes = asyncio.run(streams.run_streams(app.url + "/v1/chat/completions", app.certificate, args.streams,
                                                   on_all_open=sample, timeout=900))
    finally:
        app.stop()
    failed = [o.error for o in outcomes if o.error]
    notable = [l for l in app.lines if "warning" in l or "error" in l or "critical" in l]
    if notable:
        print(f"{len(notable)} warnings and errors in the appliance's log, the first ones:")
        for line in notable[:8]:
            print("  " + line[:300])
    print(f"{args.streams - len(failed)} of {args.streams} streams ended with a signed chunk and [DONE], "
          f"{len(failed)} failed; {time.monotonic() - started:.1f} s in all")
    for error in sorted(set(failed))[:10]:
        print(f"  {failed.count(error)} x {error[:300]}")
    print("\n| process | RSS idle (MiB) | RSS with all streams open (MiB) | open descriptors |")
    print("|---|---|---|---|")
    for name in app.processes:
        rss, fds = peak.get(name, (float("nan"), 0))
        print(f"| {name} | {idle[name]:.1f} | {rss:.1f} | {fds} |")


if __name__ == "__main__":
    main()
