"""Cold release build time and binary size, before and after a change of the release profile.

    python3 benches/bench_build.py [BEFORE_REV] [AFTER_REV]

Each revision is checked out into a temporary worktree and built with `cargo build --release
--locked` in a fresh target folder (dependencies included: a cold build, what `cargo install`
does). Reported: wall time, CPU time (user + sys, steadier than wall time on a shared machine),
the size of the `wanft` binary, and of the wheel (`maturin build --release`) when maturin is on
the PATH. BEFORE_REV defaults to the last commit whose release profile kept line tables.
"""

import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BEFORE = "3f7e36e"  # release profile: debug = "line-tables-only"


def build(rev, workdir):
    tree = os.path.join(workdir, f"tree-{rev}")
    subprocess.run(["git", "-C", ROOT, "worktree", "add", "--detach", "-q", tree, rev], check=True)
    try:
        target = os.path.join(workdir, f"target-{rev}")
        env = dict(os.environ, CARGO_TARGET_DIR=target)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(["cargo", "build", "--release", "--locked", "--quiet"], cwd=tree, env=env, check=True)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        size = os.path.getsize(os.path.join(target, "release", "wanft"))
        wheel = None
        if shutil.which("maturin") and os.path.exists(os.path.join(tree, "pyproject.toml")):
            out = os.path.join(workdir, f"wheels-{rev}")
            subprocess.run(["maturin", "build", "--release", "--locked", "--quiet", "--out", out],
                           cwd=tree, env=env, check=True, stdout=subprocess.DEVNULL)
            wheel = sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out))
        shutil.rmtree(target, ignore_errors=True)
        return wall, cpu, size, wheel
    finally:
        subprocess.run(["git", "-C", ROOT, "worktree", "remove", "--force", tree], check=False)


def main():
    revs = sys.argv[1:] or [BEFORE, "HEAD"]
    with tempfile.TemporaryDirectory(dir=os.environ.get("WANFT_BENCH_DIR")) as workdir:
        rows = [(rev,) + build(rev, workdir) for rev in revs]
    print(f"{'revision':<10} {'wall':>9} {'cpu':>9} {'binary':>10} {'wheel':>10}")
    for rev, wall, cpu, size, wheel in rows:
        shown_wheel = f"{wheel / 1e6:.1f} MB" if wheel else "-"
        print(f"{rev:<10} {wall:8.0f}s {cpu:8.0f}s {size / 1e6:8.1f} MB {shown_wheel:>10}")


if __name__ == "__main__":
    main()
