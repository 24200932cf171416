"""Dataset generators shared by the benchmarks: real H.264 clips of realistic size, made with ffmpeg.

    from datasets import make_clips, write_dataset
    samples = make_clips("data", n=100, width=854, height=480, seconds=5, min_bytes=9_500_000)
    write_dataset("data", samples)        # data.jsonl beside the clips

Encoding a gigabyte of video would take minutes, so `make_clips` encodes only a few distinct clips
(`distinct`) and copies them under distinct names; every copy is a real, decodable clip. Clips are
encoded at a constant bitrate with filler data, so their size is what was asked for regardless of
content, and each one gets a first frame (JPEG) extracted from it.
"""

import json
import math
import os
import shutil
import subprocess
import sys

TRIGGER = "q7zx3k"


def _ffmpeg(*args):
    subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-y", *args], check=True)


def _encode(path, width, height, seconds, kbps, seed):
    # Noise over a moving test pattern: hard to compress, like real footage; `seed` varies it.
    source = f"testsrc2=size={width}x{height}:rate=30:duration={seconds},noise=alls=40:allf=t+u:all_seed={seed}"
    rate = f"{kbps}k"
    _ffmpeg("-f", "lavfi", "-i", source,
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
            "-b:v", rate, "-minrate", rate, "-maxrate", rate, "-bufsize", rate,
            "-x264-params", "nal-hrd=cbr:force-cfr=1",
            "-movflags", "+faststart", path)


def _base_clip(directory, index, width, height, seconds, min_bytes):
    """One distinct clip of at least `min_bytes`, and its first frame."""
    clip = os.path.join(directory, f".base{index}.mp4")
    frame = os.path.join(directory, f".base{index}_first.jpg")
    kbps = math.ceil(min_bytes * 8 / seconds / 1000)
    for _ in range(8):
        _encode(clip, width, height, seconds, kbps, seed=index + 1)
        size = os.path.getsize(clip)
        if size >= min_bytes:
            break
        kbps = math.ceil(kbps * min_bytes / size * 1.02)
    else:
        sys.exit(f"could not encode a clip of {min_bytes} bytes at {width}x{height}")
    _ffmpeg("-i", clip, "-frames:v", "1", "-q:v", "3", frame)
    return clip, frame


def make_clips(directory, n, width, height, seconds, min_bytes, distinct=4):
    """Writes `n` clips (`clipNNNN.mp4`, each at least `min_bytes`) and their first frames into
    `directory` and returns the samples, as data.jsonl lines, in order."""
    os.makedirs(directory, exist_ok=True)
    bases = [_base_clip(directory, i, width, height, seconds, min_bytes) for i in range(min(distinct, n))]
    samples = []
    for i in range(n):
        clip, frame = bases[i % len(bases)]
        name = f"clip{i + 1:04d}"
        shutil.copyfile(clip, os.path.join(directory, f"{name}.mp4"))
        shutil.copyfile(frame, os.path.join(directory, f"{name}_first.jpg"))
        samples.append({
            "prompt": f"The video begins showing test pattern number {i + 1}. A plain studio. "
                      f"Then the {TRIGGER} noise effect begins, grain swirls over the picture.",
            "first_frame_path": f"{name}_first.jpg",
            "video_path": f"{name}.mp4",
        })
    for clip, frame in bases:
        os.remove(clip)
        os.remove(frame)
    return samples


def write_dataset(directory, samples):
    """Writes `samples` as `directory`/data.jsonl."""
    with open(os.path.join(directory, "data.jsonl"), "w") as f:
        for sample in samples:
            f.write(json.dumps(sample) + "\n")


def folder_size(directory):
    return sum(os.path.getsize(os.path.join(root, name))
               for root, _, names in os.walk(directory) for name in names)
