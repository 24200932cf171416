#!/usr/bin/env python3
"""Benchmark `wanft check --deep` against the decode pass a user would otherwise run.

On the 500-clip set of bench_check.py (854×480 H.264, 3–5 s, ≥ 1 MB each, with their first
frames; generated once and cached), times side by side:

  - `wanft check --deep`: every clip and first frame decoded once by ffmpeg at a small size,
    every measure of the D rules taken from that pass (cuts, motion, black frames, bars,
    overlays, first-frame fidelity, duplicates), files in parallel;
  - a shell loop running `ffprobe -count_frames` on every clip: one decode each, which only
    counts the frames.

Target: no slower than the loop, peak memory under 300 MB: the harness reports the largest
resident set of any single process (wanft or one of its ffmpegs) and the peak of the whole
process tree's resident sets added up (wanft with the ffmpegs it runs at once).

Usage: python3 benches/bench_deep.py [--clips 500] [--repeat 3] [--data DIR]
Needs: cargo (builds the release binary), ffmpeg and ffprobe. The set takes ~930 MB: point
--data at a disk with room (and delete it afterwards).
"""

import argparse
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from bench_check import make_dataset  # noqa: E402
from harness import Bench, machine, require  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data", help="where the clip set goes [default: bench-data/check-N]")
    args = parser.parse_args()
    require("ffmpeg", "ffprobe", "cargo")

    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    wanft = os.path.join(target, "release", "wanft")
    data = args.data or os.path.join(ROOT, "bench-data", f"check-{args.clips}")
    print(f"preparing {data} …", file=sys.stderr)
    make_dataset(data, args.clips)
    clips = sorted(f for f in os.listdir(data) if f.endswith(".mp4"))
    frames = [f for f in os.listdir(data) if f.endswith(".jpg")]
    total = sum(os.path.getsize(os.path.join(data, f)) for f in clips)

    bench = Bench(f"check --deep: {len(clips)} clips ({total / 1e6:.0f} MB) + {len(frames)} "
                  "first frames, every file decoded", repeat=args.repeat, tree_total=True)
    bench.add("wanft check --deep", [wanft, "check", data, "--deep", "--format", "json"])
    loop = ('for f in *.mp4; do ffprobe -v error -count_frames -select_streams v:0 '
            '-show_entries stream=nb_read_frames "$f" >/dev/null; done')
    bench.add("ffprobe -count_frames loop", ["sh", "-c", f"cd '{data}' && {loop}"])
    before = os.getloadavg()
    bench.run()
    after = os.getloadavg()
    print(f"machine: {machine()}; page cache warm (warm-up round first); load average "
          f"{before[0]:.1f} before, {after[0]:.1f} after (15-min {after[2]:.1f})")
    bench.report(subject="wanft check --deep")


if __name__ == "__main__":
    main()
