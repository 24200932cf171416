#!/usr/bin/env python3
"""Benchmark `wanft check` against what users do today.

Generates (once, cached under bench-data/) an i2v dataset of 500 real H.264 clips of realistic
size (854×480, 3–5 s, at least 1 MB each) with their first frames and a data.jsonl, then times,
side by side in one run:

  - `wanft check` on the folder (headers only, parallel);
  - a shell loop running `ffprobe` on every media file (what users do today);
  - `cat` of every media file to /dev/null (the cost of merely reading every byte).

Usage: python3 benches/bench_check.py [--clips 500] [--repeat 5]
Needs: cargo (builds the release binary), ffmpeg and ffprobe.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import Bench, machine, require  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DISTINCT = 25  # distinct encodes; the rest are copies under their own names


def ffmpeg(*args):
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


def make_dataset(path, clips):
    """500 clips of ≥ 1 MB: 25 distinct encodes of noisy test patterns, copied under new names."""
    marker = os.path.join(path, ".complete")
    if os.path.exists(marker) and len([f for f in os.listdir(path) if f.endswith(".mp4")]) == clips:
        return
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    sources = ["testsrc2", "mandelbrot", "smptebars", "rgbtestsrc", "gradients"]
    bases = []
    for i in range(DISTINCT):
        base = os.path.join(path, f".base{i:02d}.mp4")
        seconds = 3 + (i % 3)
        ffmpeg("-f", "lavfi", "-i", f"{sources[i % len(sources)]}=size=854x480:rate=24",
               "-t", str(seconds), "-vf", "noise=alls=12:allf=t,format=yuv420p",
               "-c:v", "libx264", "-preset", "veryfast", "-b:v", "3M", "-maxrate", "3M",
               "-bufsize", "6M", base)
        if os.path.getsize(base) < 1_000_000:
            sys.exit(f"{base} is under 1 MB; raise the bitrate")
        frame = os.path.join(path, f".base{i:02d}.jpg")
        ffmpeg("-i", base, "-frames:v", "1", "-q:v", "3", frame)
        bases.append((base, frame, seconds))
    effect = "Then the v7nq2r ripple shatter effect begins, the scene cracks like glass."
    with open(os.path.join(path, "data.jsonl"), "w") as manifest:
        for n in range(clips):
            base, frame, _ = bases[n % DISTINCT]
            clip, first = f"clip{n:04d}.mp4", f"clip{n:04d}_first.jpg"
            shutil.copyfile(base, os.path.join(path, clip))
            shutil.copyfile(frame, os.path.join(path, first))
            line = {"prompt": f"The video begins showing subject {n}. A plain room. {effect}",
                    "first_frame_path": first, "video_path": clip}
            manifest.write(json.dumps(line) + "\n")
    for base, frame, _ in bases:
        os.remove(base)
        os.remove(frame)
    open(marker, "w").close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    require("ffmpeg", "ffprobe", "cargo")

    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    target = os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target")
    wanft = os.path.join(target, "release", "wanft")
    data = os.path.join(ROOT, "bench-data", f"check-{args.clips}")
    print(f"preparing {data} …", file=sys.stderr)
    make_dataset(data, args.clips)
    media = sorted(f for f in os.listdir(data) if f.endswith((".mp4", ".jpg")))
    total = sum(os.path.getsize(os.path.join(data, f)) for f in media)
    mp4s = [f for f in media if f.endswith(".mp4")]
    smallest = min(os.path.getsize(os.path.join(data, f)) for f in mp4s)

    bench = Bench(f"check: {len(mp4s)} clips + {len(media) - len(mp4s)} frames, "
                  f"{total / 1e6:.0f} MB (smallest clip {smallest / 1e6:.2f} MB)", repeat=args.repeat)
    bench.add("wanft check", [wanft, "check", data, "--format", "json"])
    loop = 'for f in *.mp4 *.jpg; do ffprobe -v error -show_format -show_streams "$f" >/dev/null; done'
    bench.add("ffprobe loop", ["sh", "-c", f"cd '{data}' && {loop}"])
    bench.add("cat all media", ["sh", "-c", f"cd '{data}' && cat *.mp4 *.jpg > /dev/null"])
    bench.run()
    print(f"machine: {machine()}; page cache warm (warm-up round first)")
    bench.report(subject="wanft check")


if __name__ == "__main__":
    main()
