#!/usr/bin/env python3
"""Benchmark the README's two executable blocks against the emulator, as a user runs them.

  - "emulator block": `eval "$(wanft emulator --detach)"`, then `wanft run --yes` on the bundled
    example project (check, plan, pack, upload, train, previews, deploy, three sample videos);
  - "lifecycle block": the step-by-step lifecycle (upload … generate, deploy delete), against an
    emulator started the same way.

Both blocks are taken from README.md (the `<!-- readme-test: NAME -->` markers, as
tests/readme.rs does), and run with bash in a fresh copy of the examples with a fresh cache
folder each time (set up untimed), with the emulator at its default clock. The README claims
both finish in well under a minute.

Usage: python3 benches/bench_run.py [--repeat 5] [--binary target/release/wanft]
Needs: cargo (builds the release binary unless --binary is given), bash.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from harness import Bench, machine  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def block(name):
    """The shell block after `<!-- readme-test: NAME -->` in README.md."""
    with open(os.path.join(ROOT, "README.md")) as f:
        readme = f.read()
    after = readme.split(f"<!-- readme-test: {name} -->", 1)[1].lstrip()
    assert after.startswith("```sh\n"), name
    return after[len("```sh\n"):].split("\n```", 1)[0]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--binary", help="a built wanft (default: build the release one)")
    args = parser.parse_args()
    binary = args.binary
    if binary is None:
        subprocess.run(["cargo", "build", "--release", "--locked"], cwd=ROOT, check=True)
        target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
        binary = os.path.join(target, "release", "wanft")
    binary = os.path.abspath(binary)

    scratch = tempfile.mkdtemp(prefix="wanft-bench-run-")
    work = os.path.join(scratch, "checkout")
    cache = os.path.join(scratch, "cache")

    def fresh():
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(cache, ignore_errors=True)
        os.makedirs(os.path.join(work, "examples"))
        os.makedirs(cache)
        examples = os.path.join(ROOT, "examples")
        shutil.copy(os.path.join(examples, "wanft.toml"), os.path.join(work, "examples"))
        for name in ("i2v-train", "i2v-val"):
            shutil.copytree(os.path.join(examples, name), os.path.join(work, "examples", name))

    env = {
        "PATH": f"{os.path.dirname(binary)}:{os.environ.get('PATH', '')}",
        "WANFT_CACHE_DIR": cache,
        "WANFT_CREDENTIALS": os.path.join(cache, "none.toml"),
        "NO_COLOR": "1",
    }
    for name in ("DASHSCOPE_API_KEY", "WANFT_REGION", "WANFT_BASE_URL"):
        os.environ.pop(name, None)
    # Whatever happens, the detached emulator is stopped.
    guard = "trap 'kill \"${WANFT_EMULATOR_PID:-}\" 2>/dev/null || true' EXIT\n"
    start = 'eval "$(wanft emulator --detach)"\n'
    scripts = {
        "emulator block (wanft run)": guard + block("emulator"),
        "lifecycle block": guard + start + block("lifecycle"),
    }
    bench = Bench("README blocks against the emulator (default clock)", repeat=args.repeat)
    for name, script in scripts.items():
        bench.add(name, ["bash", "-euo", "pipefail", "-c", f"cd {work}\n{script}"],
                  env=env, setup=fresh)
    bench.run(ok_codes=(0,))
    print(machine())
    bench.report()
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
