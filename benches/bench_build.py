"""Cold release build time and binary size, before and after a change of the release profile.

    python3 benches/bench_build.py                 # HEAD, with the profile `profiling` and `release`
    python3 benches/bench_build.py REV[:PROFILE]…  # any revisions and profiles

Each build checks the revision out into a temporary worktree and runs `cargo build --locked
--profile P` in a fresh target folder (dependencies included: a cold build, what `cargo install`
does). Reported: wall time, CPU time (user + sys, steadier than wall time on a shared machine),
the size of the `wanft` binary, and of the wheel (`maturin build`) when maturin is on the PATH.

By default both builds are of HEAD: the `profiling` profile is the release profile as it was
before symbols were stripped (line tables kept, nothing stripped), so the two rows differ by the
profile alone, not by the code that has come since (`3f7e36e:release` builds that older code).
"""

import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT = ["HEAD:profiling", "HEAD:release"]


def build(rev, profile, workdir):
    tree = os.path.join(workdir, f"tree-{rev}-{profile}")
    subprocess.run(["git", "-C", ROOT, "worktree", "add", "--detach", "-q", tree, rev], check=True)
    try:
        target = os.path.join(workdir, f"target-{rev}-{profile}")
        env = dict(os.environ, CARGO_TARGET_DIR=target)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(["cargo", "build", "--profile", profile, "--locked", "--quiet"],
                       cwd=tree, env=env, check=True)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        size = os.path.getsize(os.path.join(target, profile, "wanft"))
        wheel = None
        if shutil.which("maturin") and os.path.exists(os.path.join(tree, "pyproject.toml")):
            out = os.path.join(workdir, f"wheels-{rev}-{profile}")
            subprocess.run(["maturin", "build", "--profile", profile, "--locked", "--quiet", "--out", out],
                           cwd=tree, env=env, check=True, stdout=subprocess.DEVNULL)
            wheel = sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out))
        shutil.rmtree(target, ignore_errors=True)
        return wall, cpu, size, wheel
    finally:
        subprocess.run(["git", "-C", ROOT, "worktree", "remove", "--force", tree], check=False)


def main():
    builds = [arg.partition(":")[::2] for arg in sys.argv[1:] or DEFAULT]
    with tempfile.TemporaryDirectory(dir=os.environ.get("WANFT_BENCH_DIR")) as workdir:
        rows = [(f"{rev}:{profile or 'release'}",) + build(rev, profile or "release", workdir)
                for rev, profile in builds]
    print(f"{'build':<18} {'wall':>9} {'cpu':>9} {'binary':>10} {'wheel':>10}")
    for name, wall, cpu, size, wheel in rows:
        shown_wheel = f"{wheel / 1e6:.1f} MB" if wheel else "-"
        print(f"{name:<18} {wall:8.0f}s {cpu:8.0f}s {size / 1e6:8.1f} MB {shown_wheel:>10}")


if __name__ == "__main__":
    main()
