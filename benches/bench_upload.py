#!/usr/bin/env python3
"""Benchmark `wanft upload` against `curl -F` on a 1 GB zip, both sending to a local emulator.

Builds (once, cached under bench-data/upload/) a valid i2v training zip of about 1 GB: ten real
H.264 clips with their first frames and a data.jsonl, plus one stored member of random
(incompressible) bytes that no line references (a warning, not an error, so `wanft upload`'s
checks pass). Starts the release emulator, then times side by side, interleaved:

  - `wanft upload ZIP --force` (checks, streams with progress accounting, hashes while sending,
    verifies the size; --force so that the ledger does not skip the repeat);
  - `curl -F file=@ZIP -F purpose=fine-tune` to the same compatible-mode endpoint.

Between runs, untimed, every file is deleted from the emulator so that disk use stays flat.
Target: wanft's median wall time within 1.5× curl's, and wanft's peak memory under 100 MB.

Usage: python3 benches/bench_upload.py [--size 1000000000] [--repeat 5]
Needs: cargo (builds the release binary), ffmpeg, curl.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import urllib.request
import zipfile

sys.path.insert(0, os.path.dirname(__file__))
from harness import Bench, machine, require  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KEY = "sk-bench-upload-key"
CLIPS = 10
CHUNK = 16 << 20


def ffmpeg(*args):
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


def make_zip(path, size):
    """A valid training set padded with random bytes to about `size` bytes, cached."""
    marker = path + ".complete"
    if os.path.exists(marker) and os.path.exists(path):
        return
    work = path + ".parts"
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    effect = "Then the v7nq2r ripple shatter effect begins, the scene cracks like glass."
    lines = []
    for n in range(CLIPS):
        clip, frame = f"clip{n:02d}.mp4", f"clip{n:02d}_first.jpg"
        ffmpeg("-f", "lavfi", "-i", f"testsrc2=size=320x240:rate=16", "-t", "3",
               "-vf", "format=yuv420p", "-c:v", "libx264", "-preset", "veryfast",
               os.path.join(work, clip))
        ffmpeg("-i", os.path.join(work, clip), "-frames:v", "1", os.path.join(work, frame))
        lines.append({"prompt": f"The video begins showing subject {n}. A plain room. {effect}",
                      "first_frame_path": frame, "video_path": clip})
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as z:
        z.writestr("data.jsonl", "".join(json.dumps(l) + "\n" for l in lines))
        for name in sorted(os.listdir(work)):
            z.write(os.path.join(work, name), name)
        left = size - os.path.getsize(path) - 4096
        with z.open("padding.bin", "w") as padding:
            while left > 0:
                n = min(CHUNK, left)
                padding.write(os.urandom(n))
                left -= n
    shutil.rmtree(work)
    open(marker, "w").close()


def start_emulator(wanft, state_dir):
    shutil.rmtree(state_dir, ignore_errors=True)
    proc = subprocess.Popen(
        [wanft, "emulator", "--port", "0", "--time-scale", "0", "--state-dir", state_dir],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env=dict(os.environ, DASHSCOPE_API_KEY=KEY))
    first = proc.stdout.readline().strip()
    prefix = "wanft emulator listening on "
    if not first.startswith(prefix):
        proc.terminate()
        sys.exit(f"the emulator did not start: {first!r}")
    return proc, first[len(prefix):]


def api(base, method, path):
    request = urllib.request.Request(base + path, method=method,
                                     headers={"Authorization": f"Bearer {KEY}"})
    with urllib.request.urlopen(request) as response:
        return json.load(response)


def delete_all_files(base):
    for f in api(base, "GET", "/compatible-mode/v1/files")["data"]:
        api(base, "DELETE", f"/compatible-mode/v1/files/{f['id']}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    require("ffmpeg", "curl", "cargo")

    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    wanft = os.path.join(ROOT, "target", "release", "wanft")
    data = os.path.join(ROOT, "bench-data", "upload")
    os.makedirs(data, exist_ok=True)
    zip_path = os.path.join(data, f"train-{args.size}.zip")
    print(f"preparing {zip_path} …", file=sys.stderr)
    make_zip(zip_path, args.size)
    size = os.path.getsize(zip_path)

    emulator, base = start_emulator(wanft, os.path.join(data, "emulator-state"))
    try:
        bench = Bench(f"upload: one {size / 1e9:.2f} GB zip (stored, random bytes) to a local "
                      f"emulator, compatible-mode endpoint", repeat=args.repeat)
        cleanup = lambda: delete_all_files(base)  # noqa: E731
        wanft_argv = [wanft, "upload", zip_path, "--force", "--quiet",
                      "--region", "ap-southeast-1", "--base-url", base]
        wanft_env = {"DASHSCOPE_API_KEY": KEY, "WANFT_CACHE_DIR": os.path.join(data, "cache")}
        bench.add("wanft upload --force", wanft_argv, env=wanft_env, setup=cleanup)
        bench.add("curl -F",
                  ["curl", "-sS", "--fail", "-o", "/dev/null",
                   "-H", f"Authorization: Bearer {KEY}",
                   "-F", f"file=@{zip_path}", "-F", "purpose=fine-tune",
                   f"{base}/compatible-mode/v1/files"],
                  setup=cleanup)
        bench.run(ok_codes=(0,))
        delete_all_files(base)
    finally:
        emulator.terminate()
        emulator.wait()
    print(f"machine: {machine()}; emulator and client on the same machine (loopback)")
    bench.report(baseline="curl -F")
    ratio = bench.median("wanft upload --force") / bench.median("curl -F")
    print(f"wanft / curl wall time: {ratio:.2f}× (target ≤ 1.5×); wanft peak RSS "
          f"{bench.peak_mib('wanft upload --force'):.1f} MiB (target < 100 MB)")


if __name__ == "__main__":
    main()
