#!/usr/bin/env python3
"""`wanft pack` against the usual ways of zipping a dataset, and against a plain copy.

    python3 benches/bench_pack.py [--size-mb 950] [--repeat 5] [--workdir target/bench-pack]

Generates (once, then reuses) a dataset of real H.264 clips totalling about --size-mb MB, then
times side by side, interleaved: `wanft pack`, Info-ZIP `zip -0 -r`, Python's `zipfile` (stored)
and `cp -r` of the same folder (the physical floor), each also followed by a sync of what it
wrote. `wanft pack` syncs its zip to disk before renaming it into place (so that a zip that looks
complete is complete, even after a power cut); the others leave it in the page cache, where the
kernel writes it later. The "+ sync" rows are the comparison on equal terms: data on disk.
Every run starts from a clean state: its output removed and dirty pages flushed (`sync`),
untimed. Needs ffmpeg, zip and a release build (made if missing).
"""

import argparse
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from datasets import folder_size, make_clips, write_dataset  # noqa: E402
from harness import Bench, machine, require  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLIP_BYTES = 9_500_000   # 480p, 5 s, ~15 Mbit/s
CLIP_SECONDS = 5

PYTHON_ZIP = """
import os, sys, zipfile
src, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
    for root, dirs, files in os.walk(src):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(root, name)
            z.write(path, os.path.relpath(path, src))
"""


def dataset(workdir, size_mb):
    data = os.path.join(workdir, "data")
    marker = os.path.join(data, ".complete")
    n = max(10, round(size_mb * 1_000_000 / (CLIP_BYTES + 60_000)))
    if os.path.exists(marker) and open(marker).read() == str(n):
        return data
    shutil.rmtree(data, ignore_errors=True)
    print(f"generating {n} clips of {CLIP_BYTES / 1e6:.1f} MB in {data} …", file=sys.stderr)
    samples = make_clips(data, n, 854, 480, CLIP_SECONDS, CLIP_BYTES)
    write_dataset(data, samples)
    with open(marker, "w") as f:
        f.write(str(n))
    return data


def fresh(*paths):
    """Untimed setup: remove the previous output, flush dirty pages."""
    def setup():
        for p in paths:
            if os.path.isdir(p):
                shutil.rmtree(p)
            elif os.path.exists(p):
                os.remove(p)
        os.sync()
    return setup


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mb", type=int, default=950)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--workdir", default=os.path.join(ROOT, "target", "bench-pack"))
    args = parser.parse_args()
    require("ffmpeg", "zip", "cp", "sync")

    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    wanft = os.path.join(ROOT, "target", "release", "wanft")
    workdir = os.path.abspath(args.workdir)
    data = dataset(workdir, args.size_mb)
    out = os.path.join(workdir, "out")
    os.makedirs(out, exist_ok=True)
    # The marker file is not referenced: wanft leaves it out, the others copy its few bytes.
    size = folder_size(data)

    b = Bench(f"pack {size / 1e6:.0f} MB ({len(os.listdir(data)) // 2} clips)", repeat=args.repeat)
    wanft_zip = os.path.join(out, "wanft.zip")
    b.add("wanft pack", [wanft, "pack", data, "-o", wanft_zip, "-q"],
          setup=fresh(wanft_zip, wanft_zip + ".manifest.json"))
    infozip = os.path.join(out, "infozip.zip")
    zip_cmd = f'cd "{data}" && zip -0 -r -q "{infozip}" .'
    b.add("zip -0 -r", ["sh", "-c", zip_cmd], setup=fresh(infozip))
    b.add("zip -0 -r + sync", ["sh", "-c", f'{zip_cmd} && sync "{infozip}"'], setup=fresh(infozip))
    pyzip = os.path.join(out, "python.zip")
    b.add("python zipfile (stored)", [sys.executable, "-c", PYTHON_ZIP, data, pyzip], setup=fresh(pyzip))
    b.add("python zipfile + sync", ["sh", "-c", f'"{sys.executable}" -c \'{PYTHON_ZIP}\' "{data}" "{pyzip}" && sync "{pyzip}"'],
          setup=fresh(pyzip))
    copy = os.path.join(out, "copy")
    b.add("cp -r", ["cp", "-r", data, copy], setup=fresh(copy))
    b.add("cp -r + sync", ["sh", "-c", f'cp -r "{data}" "{copy}" && sync "{copy}"/*'], setup=fresh(copy))
    b.run(ok_codes=(0,))
    print(f"\nMachine: {machine()}; output on the same file system as the dataset.")
    b.report(subject="wanft pack")


if __name__ == "__main__":
    main()
