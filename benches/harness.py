"""Side-by-side timing of shell commands: median wall time and peak memory per command.

Every benchmark in this folder uses it the same way:

    from harness import Bench
    b = Bench("check 500 clips", repeat=5)
    b.add("wanft check", ["target/release/wanft", "check", "data"])
    b.add("ffprobe loop", ["sh", "-c", "for f in data/*.mp4; do ffprobe -v error $f; done"])
    b.run()            # rounds interleave the commands, so machine noise hits all alike
    b.report(baseline="ffprobe loop")

Wall time is measured around each process. Peak memory is the largest resident set (VmHWM) of
the process or of any of its descendants, polled from /proc while it runs: wait4's ru_maxrss
would count the Python interpreter the child was forked from. Medians, because the machines are
shared.
"""

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


class Bench:
    def __init__(self, title, repeat=5, warmup=1, tree_total=False):
        self.title = title
        # Also report the peak of the whole process tree's resident sets added up (a tool
        # that runs several workers at once), besides the largest single process.
        self.tree_total = tree_total
        self.repeat = repeat
        self.warmup = warmup
        self.commands = []  # (name, argv, env, setup)
        self.samples = {}   # name -> [(seconds, max_rss_kib, max_tree_total_kib)]

    def add(self, name, argv, env=None, setup=None):
        """Registers a command; `setup` (a callable) runs before every timed run, untimed."""
        self.commands.append((name, argv, env, setup))
        self.samples[name] = []

    def _once(self, argv, env, setup):
        if setup:
            setup()
        full_env = dict(os.environ, **(env or {}))
        with tempfile.TemporaryFile() as err_file:
            start = time.perf_counter()
            proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err_file, env=full_env)
            peak = total = 0
            while proc.poll() is None:
                hwm, rss = _tree_memory_kib(proc.pid)
                peak, total = max(peak, hwm), max(total, rss)
                time.sleep(0.01)
            elapsed = time.perf_counter() - start
            err_file.seek(0)
            err = err_file.read().decode(errors="replace")
        return elapsed, (peak, total), proc.returncode, err

    def run(self, ok_codes=(0, 1)):
        for round_no in range(self.warmup + self.repeat):
            for name, argv, env, setup in self.commands:
                secs, (rss, total), code, err = self._once(argv, env, setup)
                if code not in ok_codes:
                    sys.exit(f"{name} failed with exit {code}:\n{err[-2000:]}")
                if round_no >= self.warmup:
                    self.samples[name].append((secs, rss, total))
                tree = f"  (tree {total / 1024:.1f} MiB)" if self.tree_total else ""
                print(f"  {name:<28} {secs:8.3f} s  {rss / 1024:8.1f} MiB{tree}", file=sys.stderr)

    def median(self, name):
        return statistics.median(s[0] for s in self.samples[name])

    def peak_mib(self, name):
        return max(s[1] for s in self.samples[name]) / 1024

    def tree_peak_mib(self, name):
        return max(s[2] for s in self.samples[name]) / 1024

    def report(self, baseline=None, subject=None):
        """Prints a Markdown table; ratios are `command time / subject time` when a subject is
        given (how many times slower than wanft), else relative to the baseline."""
        print(f"\n### {self.title}\n")
        print(f"{self.repeat} runs each after {self.warmup} warm-up, interleaved; median wall time.\n")
        ref = subject or baseline
        tree_head, tree_rule = ("peak RSS, whole tree | ", "---:|") if self.tree_total else ("", "")
        print(f"| command | median | min | max | peak RSS | {tree_head}" + (f"× {ref} |" if ref else "|"))
        print(f"|---|---:|---:|---:|---:|{tree_rule}" + ("---:|" if ref else ""))
        for name, *_ in self.commands:
            times = [s[0] for s in self.samples[name]]
            row = f"| {name} | {self.median(name):.3f} s | {min(times):.3f} s | {max(times):.3f} s | {self.peak_mib(name):.1f} MiB |"
            if self.tree_total:
                row += f" {self.tree_peak_mib(name):.1f} MiB |"
            if ref:
                row += f" {self.median(name) / self.median(ref):.2f} |"
            print(row)
        print()


def _tree_memory_kib(pid):
    """(largest VmHWM, sum of VmRSS) in KiB over `pid` and its descendants alive now."""
    peak, total, stack = 0, 0, [pid]
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        peak = max(peak, int(line.split()[1]))
                    elif line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    stack.extend(int(c) for c in f.read().split())
        except (OSError, ValueError):
            continue
    return peak, total


def require(*tools):
    """Exits with a clear message when a tool the benchmark compares against is missing."""
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        sys.exit(f"missing tools: {', '.join(missing)} (apt-get install {' '.join(missing)})")


def machine():
    """One line describing where the figures come from."""
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}"
