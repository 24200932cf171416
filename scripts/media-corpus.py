#!/usr/bin/env python3
"""Generates the media corpus that tests/media_corpus.rs compares wanft's probe with ffprobe on.

    python3 scripts/media-corpus.py OUT_DIR

Writes small media files into OUT_DIR and OUT_DIR/manifest.json, which lists each file with
what the test should expect of it:

- "video": an MP4/MOV file ffprobe reads; wanft must agree with ffprobe (duration within one
  frame, presented frame count, coded and display size, fps, codec), unless tests/media_corpus.rs
  allow-lists the difference with its reason;
- "image": an image; wanft must agree with ffprobe on the size, and with the manifest on the EXIF
  orientation;
- "container": a container the platform refuses; wanft must name it;
- "damaged": a file damaged in one way (the "damage" field says how); wanft must flag it.

Tools: Debian's ffmpeg (encoders libx264, libx265, libvpx-vp9, libaom-av1, mpeg4, mjpeg,
prores_ks, png, libwebp…) and ImageMagick (progressive and CMYK JPEG, interlaced PNG). Edit lists,
EXIF blocks and damage are written by this script. Clips are tiny (a few dozen pixels, a few
seconds) so that the whole corpus takes well under a minute on two cores.
"""

import json
import os
import shutil
import struct
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

OUT = None
MANIFEST = []


def ffmpeg(*args):
    subprocess.run(
        ["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-y", *args],
        check=True,
    )


def imagemagick():
    # /usr/local/bin/convert may be a stand-in; Debian's real one has versioned names too.
    for name in ("convert-im6.q16", "magick", "/usr/bin/convert"):
        found = shutil.which(name)
        if found:
            return found
    sys.exit("ImageMagick is required (apt-get install imagemagick)")


def path(name):
    return os.path.join(OUT, name)


def add(name, kind, **extra):
    MANIFEST.append({"name": name, "kind": kind, **extra})


def testsrc(size, rate, seconds):
    return ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}:duration={seconds}"]


def sine(seconds):
    return ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}"]


X264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
X264_BF = ["-c:v", "libx264", "-preset", "veryfast", "-bf", "2", "-pix_fmt", "yuv420p"]
X265 = ["-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error"]
AAC = ["-c:a", "aac", "-b:a", "32k"]

# ------------------------------------------------------------------------------------------
# ISO-BMFF editing: boxes as (type, start, end) and body replacement with size fix-ups. Only
# used on files whose moov comes after their media data, so chunk offsets stay valid.

CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"mvex", b"moof", b"traf",
              b"dinf", b"udta"}


def boxes(data, start, end):
    at = start
    while at + 8 <= end:
        size, kind = struct.unpack(">I4s", data[at:at + 8])
        header = 8
        if size == 1:
            size = struct.unpack(">Q", data[at + 8:at + 16])[0]
            header = 16
        elif size == 0:
            size = end - at
        yield kind, at, at + size, header
        at += size


def find(data, path_kinds, start=0, end=None, nth=0):
    """The box at a path such as [b'moov', b'trak', b'mdia'], as (start, end, header); `nth`
    picks among siblings of the last kind."""
    end = len(data) if end is None else end
    found = []
    for kind, s, e, h in boxes(data, start, end):
        if kind == path_kinds[0]:
            found.append((s, e, h))
    if len(path_kinds) == 1:
        return found[nth] if nth < len(found) else None
    for s, e, h in found:
        inner = find(data, path_kinds[1:], s + h, e, nth)
        if inner:
            return inner
    return None


def video_trak(data):
    """(start, end) of the first trak whose handler is 'vide'."""
    moov = find(data, [b"moov"])
    for kind, s, e, h in boxes(data, moov[0] + 8, moov[1]):
        if kind == b"trak":
            hdlr = find(data, [b"mdia", b"hdlr"], s + 8, e)
            if hdlr and data[hdlr[0] + 16:hdlr[0] + 20] == b"vide":
                return s, e
    raise ValueError("no video track")


def replace(data, start, end, new_bytes, ancestors):
    """Replaces data[start:end] and grows or shrinks the boxes starting at `ancestors`."""
    delta = len(new_bytes) - (end - start)
    out = bytearray(data[:start] + new_bytes + data[end:])
    for a in ancestors:
        size = struct.unpack(">I", out[a:a + 4])[0]
        struct.pack_into(">I", out, a, size + delta)
    return bytes(out)


def box(kind, body):
    return struct.pack(">I4s", 8 + len(body), kind) + body


def moov_is_last(data):
    kinds = [k for k, *_ in boxes(data, 0, len(data))]
    return kinds.index(b"moov") > kinds.index(b"mdat")


def set_edit_list(data, edits, version=0):
    """Gives the video track the edit list [(duration, media_time, rate)] (media_time -1:
    an empty edit)."""
    assert moov_is_last(data)
    body = struct.pack(">II", version << 24, len(edits))
    for duration, media_time, rate in edits:
        body += struct.pack(">Qq" if version else ">Ii", duration, media_time)
        body += struct.pack(">i", int(rate * 65536))
    edts = box(b"edts", box(b"elst", body))
    moov = find(data, [b"moov"])
    trak_start, trak_end = video_trak(data)
    old = find(data, [b"edts"], trak_start + 8, trak_end)
    if old:
        return replace(data, old[0], old[1], edts, [moov[0], trak_start])
    tkhd = find(data, [b"tkhd"], trak_start + 8, trak_end)
    return replace(data, tkhd[1], tkhd[1], edts, [moov[0], trak_start])


def video_box(data, path_kinds):
    trak_start, trak_end = video_trak(data)
    return find(data, path_kinds, trak_start + 8, trak_end), trak_start


def edit(src, dst, change):
    with open(path(src), "rb") as f:
        data = f.read()
    with open(path(dst), "wb") as f:
        f.write(change(data))


# ------------------------------------------------------------------------------------------
# EXIF: a minimal big-endian TIFF block holding one Orientation tag.

def exif_tiff(orientation):
    return (b"MM\0*" + struct.pack(">I", 8) + struct.pack(">H", 1)
            + struct.pack(">HHIHH", 0x0112, 3, 1, orientation, 0) + struct.pack(">I", 0))


def jpeg_with_exif(jpeg, orientation):
    payload = b"Exif\0\0" + exif_tiff(orientation)
    app1 = b"\xFF\xE1" + struct.pack(">H", len(payload) + 2) + payload
    return jpeg[:2] + app1 + jpeg[2:]


def png_with_exif(png, orientation):
    import zlib
    payload = exif_tiff(orientation)
    chunk = struct.pack(">I", len(payload)) + b"eXIf" + payload
    chunk += struct.pack(">I", zlib.crc32(b"eXIf" + payload) & 0xFFFFFFFF)
    ihdr_end = 8 + 8 + 13 + 4
    return png[:ihdr_end] + chunk + png[ihdr_end:]


def webp_with_exif(webp, orientation, width, height):
    """Wraps a simple (VP8/VP8L) WebP in the extended format with an EXIF chunk after the
    image data, where the format puts it."""
    image = webp[12:]
    vp8x = struct.pack("<I", 0x08)  # flags: EXIF present
    vp8x += (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    payload = exif_tiff(orientation)
    exif = b"EXIF" + struct.pack("<I", len(payload)) + payload + (b"\0" if len(payload) % 2 else b"")
    body = b"WEBP" + b"VP8X" + struct.pack("<I", len(vp8x)) + vp8x + image + exif
    return b"RIFF" + struct.pack("<I", len(body)) + body


# ------------------------------------------------------------------------------------------
# The corpus

def sources():
    # A/V source: keyframe every 2 s, so cuts keep up to 2 s of hidden frames.
    ffmpeg(*testsrc("96x64", 24, 14), *sine(14), *X264, "-g", "48", *AAC, path("src-av.mp4"))
    ffmpeg(*testsrc("96x64", 24, 8), *X264_BF, "-g", "48", path("src-bframes.mp4"))
    ffmpeg(*testsrc("96x64", 30, 8), "-c:v", "mpeg4", "-g", "60", "-bf", "2",
           path("src-mpeg4.mp4"))


def cuts(jobs):
    """Lossless cuts at several offsets, with and without audio, MP4, MOV and fragmented."""
    for ss, t, audio in [(1.5, 9, True), (3.3, 1.6, False), (2.7, 7.1, True), (0.5, 3, False),
                         (4.0, 3, False), (5.9, 2.2, True), (1.04, 4, False), (9.9, 4, True)]:
        name = f"cut-av-ss{ss}-t{t}{'' if audio else '-noaudio'}.mp4"
        jobs.append((ffmpeg, ["-ss", str(ss), "-i", path("src-av.mp4"), "-t", str(t), "-c", "copy",
                              *([] if audio else ["-an"]), path(name)], name))
    for ss, t in [(1.5, 3), (2.2, 4.5), (0.3, 2)]:
        name = f"cut-bframes-ss{ss}-t{t}.mp4"
        jobs.append((ffmpeg, ["-ss", str(ss), "-i", path("src-bframes.mp4"), "-t", str(t), "-c",
                              "copy", path(name)], name))
    for ss, t in [(1.5, 3), (2.9, 2.5)]:
        name = f"cut-mpeg4-ss{ss}-t{t}.mp4"
        jobs.append((ffmpeg, ["-ss", str(ss), "-i", path("src-mpeg4.mp4"), "-t", str(t), "-c",
                              "copy", path(name)], name))
    for src, ss, t in [("src-av.mp4", 1.5, 3), ("src-bframes.mp4", 2.2, 3), ("src-av.mp4", 6.3, 5)]:
        name = f"cut-{src[4:-4]}-ss{ss}-t{t}.mov"
        jobs.append((ffmpeg, ["-ss", str(ss), "-i", path(src), "-t", str(t), "-c", "copy",
                              "-f", "mov", path(name)], name))
    for src, ss, t, ext in [("src-av.mp4", 1.5, 3, "mp4"), ("src-bframes.mp4", 1.5, 3, "mp4"),
                            ("src-av.mp4", 2.5, 4, "mov")]:
        name = f"cut-{src[4:-4]}-ss{ss}-t{t}-fragmented.{ext}"
        jobs.append((ffmpeg, ["-ss", str(ss), "-i", path(src), "-t", str(t), "-c", "copy",
                              "-movflags", "+frag_keyframe+empty_moov+default_base_moof",
                              "-f", "mov" if ext == "mov" else "mp4", path(name)], name))
    name = "cut-bframes-delay-moov-fragmented.mp4"
    jobs.append((ffmpeg, ["-ss", "1.5", "-i", path("src-bframes.mp4"), "-t", "3", "-c", "copy",
                          "-movflags", "+frag_keyframe+delay_moov+default_base_moof",
                          path(name)], name))
    name = "cut-timescales-movie600-video90000.mp4"
    jobs.append((ffmpeg, ["-ss", "2.7", "-i", path("src-av.mp4"), "-t", "3.3", "-c", "copy",
                          "-movie_timescale", "600", "-video_track_timescale", "90000",
                          path(name)], name))
    name = "output-ts-offset-av.mp4"
    jobs.append((ffmpeg, ["-i", path("src-av.mp4"), "-t", "4", "-c", "copy",
                          "-output_ts_offset", "1", path(name)], name))


def encodes(jobs):
    """Codecs, rates, sizes and layouts encoded from the test pattern."""
    def job(name, *args):
        jobs.append((ffmpeg, [*args, path(name)], name))

    job("h264-23.976fps.mp4", *testsrc("96x64", "24000/1001", 2), *X264)
    job("h264-29.97fps.mp4", *testsrc("96x64", "30000/1001", 2), *X264)
    job("h264-60fps.mp4", *testsrc("96x64", 60, 2), *X264)
    job("h264-bframes.mp4", *testsrc("96x64", 25, 3), *X264_BF)
    job("h264-vfr.mp4", *testsrc("96x64", 30, 3), *X264, "-vf",
        "setpts='if(lt(N,30),N/30,1+(N-30)/15)/TB'", "-fps_mode", "vfr",
        "-video_track_timescale", "90000")
    job("h264-one-frame.mp4", *testsrc("96x64", 24, 1), *X264, "-frames:v", "1")
    job("h264-30s.mp4", *testsrc("64x48", 24, 30), *X264)
    job("h264-faststart-av.mp4", *testsrc("96x64", 24, 3), *sine(3), *X264, *AAC,
        "-movflags", "+faststart")
    job("h264-audio-longer.mp4", *testsrc("96x64", 24, 3), *sine(5), *X264, *AAC)
    job("h264-audio-first.mp4", *testsrc("96x64", 24, 2), *sine(2), "-map", "1:a", "-map", "0:v",
        *X264, *AAC)
    job("h264-10bit.mp4", *testsrc("96x64", 24, 1), "-c:v", "libx264", "-preset", "ultrafast",
        "-pix_fmt", "yuv420p10le")
    job("h264-444.mp4", *testsrc("96x64", 24, 1), "-c:v", "libx264", "-preset", "ultrafast",
        "-pix_fmt", "yuv444p")
    job("h264-anamorphic-sar4-3.mp4", *testsrc("96x64", 24, 1), *X264, "-vf", "setsar=4/3")
    job("h264-odd-size.mp4", *testsrc("98x66", 24, 1), *X264)
    job("hevc-hvc1.mp4", *testsrc("96x64", 24, 1), *X265, "-tag:v", "hvc1")
    job("hevc-hev1.mp4", *testsrc("96x64", 24, 1), *X265, "-tag:v", "hev1")
    job("hevc-10bit.mp4", *testsrc("96x64", 24, 1), *X265, "-pix_fmt", "yuv420p10le",
        "-tag:v", "hvc1")
    job("hevc.mov", *testsrc("96x64", 24, 1), *X265, "-tag:v", "hvc1")
    job("vp9.mp4", *testsrc("96x64", 24, 1), "-c:v", "libvpx-vp9", "-deadline", "realtime",
        "-cpu-used", "8")
    job("av1.mp4", *testsrc("96x64", 24, 1), "-c:v", "libaom-av1", "-cpu-used", "8",
        "-row-mt", "1", "-b:v", "100k")
    job("mpeg4-part2.mp4", *testsrc("96x64", 24, 2), "-c:v", "mpeg4")
    job("mpeg4-part2.mov", *testsrc("96x64", 25, 2), "-c:v", "mpeg4")
    job("mjpeg.mov", *testsrc("96x64", 24, 1), "-c:v", "mjpeg", "-pix_fmt", "yuvj420p")
    job("prores.mov", *testsrc("96x64", 24, 1), "-c:v", "prores_ks", "-profile:v", "0")
    job("h264.mov", *testsrc("96x64", 24, 2), *sine(2), *X264, *AAC)
    job("two-video-tracks.mp4", *testsrc("96x64", 24, 2), *testsrc("64x48", 30, 3),
        "-map", "0:v", "-map", "1:v", *X264)
    job("timecode-track.mov", *testsrc("96x64", 24, 2), *X264, "-timecode", "01:00:00:00")


def derived(jobs):
    """Remuxes of encoded files: rotation (the display matrix), pixel aspect, cover art."""
    for rotation in (90, 180, 270):
        ccw = (360 - rotation) % 360
        name = f"rotate-{rotation}.mp4"
        jobs.append((ffmpeg, ["-i", path("h264-bframes.mp4"), "-c", "copy", "-metadata:s:v:0",
                              f"rotate={ccw}", path(name)], name))
    jobs.append((ffmpeg, ["-i", path("h264.mov"), "-c", "copy", "-metadata:s:v:0", "rotate=270",
                          path("rotate-90.mov")], "rotate-90.mov"))
    jobs.append((ffmpeg, ["-i", path("h264-anamorphic-sar4-3.mp4"), "-c", "copy",
                          "-metadata:s:v:0", "rotate=270", path("rotate-90-anamorphic.mp4")],
                 "rotate-90-anamorphic.mp4"))
    jobs.append((ffmpeg, ["-itsoffset", "1", "-i", path("h264-bframes.mp4"), "-c", "copy",
                          path("itsoffset-empty-edit.mp4")], "itsoffset-empty-edit.mp4"))
    jobs.append((ffmpeg, ["-i", path("h264-bframes.mp4"), "-c", "copy", "-aspect", "16:9",
                          path("pasp-only-16-9.mp4")], "pasp-only-16-9.mp4"))
    ffmpeg(*testsrc("48x48", 1, 1), "-frames:v", "1", path("cover.png"))
    jobs.append((ffmpeg, ["-i", path("h264-faststart-av.mp4"), "-i", path("cover.png"),
                          "-map", "0", "-map", "1", "-c", "copy", "-c:v:1", "png",
                          "-disposition:v:1", "attached_pic", path("cover-art.mp4")],
                 "cover-art.mp4"))


def edit_lists():
    """Edit lists written by hand on a cut with its moov last (1.617 s from media time 1.3 s)."""
    base = "cut-av-ss3.3-t1.6-noaudio.mp4"
    with open(path(base), "rb") as f:
        data = f.read()
    (mdhd, _) = video_box(data, [b"mdia", b"mdhd"])
    scale = struct.unpack(">I", data[mdhd[0] + 20:mdhd[0] + 24])[0]
    cases = {
        "elst-empty-lead.mp4": ([(1000, -1, 1), (1617, int(1.3 * scale), 1)], 0),
        "elst-two-segments.mp4": ([(500, scale, 1), (500, 2 * scale, 1)], 0),
        "elst-rate-2.mp4": ([(1000, scale, 2)], 0),
        "elst-version-1.mp4": ([(1617, int(1.3 * scale), 1)], 1),
        "elst-past-media-end.mp4": ([(5000, 0, 1)], 0),
        "elst-middle-empty.mp4": ([(500, scale, 1), (700, -1, 1), (500, 2 * scale, 1)], 0),
    }
    for name, (edits, version) in cases.items():
        edit(base, name, lambda d, e=edits, v=version: set_edit_list(d, e, v))
        add(name, "video")


def damaged():
    """One file per damage class of issue 8 item 3; each must be flagged."""
    base = "h264-bframes.mp4"

    def stts_with(data, entries):
        (stts, trak) = video_box(data, [b"mdia", b"minf", b"stbl", b"stts"])
        moov = find(data, [b"moov"])
        mdia = find(data, [b"mdia"], trak + 8)
        minf = find(data, [b"minf"], mdia[0] + 8)
        stbl = find(data, [b"stbl"], minf[0] + 8)
        body = struct.pack(">II", 0, len(entries)) + b"".join(
            struct.pack(">II", n, d) for n, d in entries)
        return replace(data, stts[0], stts[1], box(b"stts", body),
                       [moov[0], trak, mdia[0], minf[0], stbl[0]])

    def stts_entries(data):
        (stts, _) = video_box(data, [b"mdia", b"minf", b"stbl", b"stts"])
        count = struct.unpack(">I", data[stts[0] + 12:stts[0] + 16])[0]
        return [struct.unpack(">II", data[stts[0] + 16 + 8 * i:stts[0] + 24 + 8 * i])
                for i in range(count)]

    def samples(data):
        return sum(n for n, _ in stts_entries(data))

    def long_sample(data):
        n = samples(data)
        return stts_with(data, [(n - 1, 512), (1, 512 * 10 * n)])

    def zero_samples(data):
        n = samples(data)
        return stts_with(data, [(n - 10, 512), (10, 0)])

    def mdhd_field(data, offset, value):
        (mdhd, _) = video_box(data, [b"mdia", b"mdhd"])
        out = bytearray(data)
        struct.pack_into(">I", out, mdhd[0] + offset, value)
        return bytes(out)

    def header_disagrees(data):
        (mdhd, _) = video_box(data, [b"mdia", b"mdhd"])
        duration = struct.unpack(">I", data[mdhd[0] + 24:mdhd[0] + 28])[0]
        return mdhd_field(data, 24, duration * 3)

    def avcc(data, offset, value):
        at = data.index(b"avcC") + 4 + offset
        return data[:at] + bytes([value]) + data[at + 1:]

    def encrypted(data):
        at = data.index(b"avc1", data.index(b"stsd"))
        return data[:at] + b"encv" + data[at + 4:]

    def chunk_past_end(data):
        (stco, _) = video_box(data, [b"mdia", b"minf", b"stbl", b"stco"])
        out = bytearray(data)
        count = struct.unpack(">I", out[stco[0] + 12:stco[0] + 16])[0]
        struct.pack_into(">I", out, stco[0] + 16 + 4 * (count - 1), len(data) + 1000)
        return bytes(out)

    def edit_after_media(data):
        return set_edit_list(data, [(1000, 10 ** 7, 1)])

    def truncated(data):
        mdat = find(data, [b"mdat"])
        return data[:(mdat[0] + mdat[1]) // 2]

    cases = {
        "damaged-sample-longer-than-track.mp4": (long_sample, "a sample longer than the track"),
        "damaged-zero-duration-samples.mp4": (zero_samples, "zero-duration samples"),
        "damaged-zero-timescale.mp4": (lambda d: mdhd_field(d, 20, 0), "media timescale 0"),
        "damaged-track-header-disagrees.mp4": (header_disagrees,
                                               "sample table total disagrees with mdhd"),
        "damaged-avcc-version.mp4": (lambda d: avcc(d, 0, 0), "avcC does not parse"),
        "damaged-avcc-sps-length.mp4": (lambda d: avcc(d, 7, 0xF0), "avcC does not parse"),
        "damaged-encrypted.mp4": (encrypted, "encrypted sample entry"),
        "damaged-chunk-past-end.mp4": (chunk_past_end, "sample data past the end of the file"),
        "damaged-edit-after-media.mp4": (edit_after_media, "edit list presents nothing"),
        "damaged-truncated.mp4": (truncated, "file cut short"),
    }
    for name, (change, damage) in cases.items():
        edit(base, name, change)
        add(name, "damaged", damage=damage)


def containers(jobs):
    """Containers the platform refuses, each with the name wanft must give it."""
    def job(name, container, *args):
        jobs.append((ffmpeg, [*testsrc("96x64", 24, 1), *args, path(name)], name))
        add(name, "container", container=container)

    job("matroska.mkv", "Matroska", *X264)
    job("webm.webm", "WebM", "-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8")
    job("avi.avi", "AVI", "-c:v", "mpeg4")
    job("mpeg-ts.ts", "MPEG-TS", *X264, "-f", "mpegts")
    job("m2ts.mts", "MPEG-TS", *X264, "-f", "mpegts", "-mpegts_m2ts_mode", "1")
    job("flv.flv", "FLV", *X264)
    job("asf.wmv", "ASF", "-c:v", "wmv2")
    job("mpeg-ps.mpg", "MPEG-PS", "-c:v", "mpeg2video", "-f", "mpeg")


def images(jobs):
    magick = imagemagick()

    def ff_image(name, size, *args):
        jobs.append((ffmpeg, ["-f", "lavfi", "-i", f"testsrc2=size={size},format=rgb24",
                              "-frames:v", "1", *args, "-f", "image2", "-update", "1",
                              path(name)], name))
        add(name, "image", exif_orientation=None)

    def im_image(name, *args):
        jobs.append((lambda *a: subprocess.run([magick, *a], check=True),
                     [path("pattern.png"), *args, path(name)], name))
        add(name, "image", exif_orientation=None)

    ff_image("baseline.jpg", "120x80", "-c:v", "mjpeg", "-pix_fmt", "yuvj420p")
    ff_image("yuv444.jpg", "120x80", "-c:v", "mjpeg", "-pix_fmt", "yuvj444p")
    ff_image("rgb.png", "120x80", "-c:v", "png")
    ff_image("rgb48-16bit.png", "120x80", "-c:v", "png", "-pix_fmt", "rgb48be")
    ff_image("gray.png", "120x80", "-c:v", "png", "-pix_fmt", "gray")
    ff_image("rgba.png", "120x80", "-c:v", "png", "-pix_fmt", "rgba")
    ff_image("palette.png", "120x80", "-c:v", "png", "-pix_fmt", "pal8")
    ff_image("lossy.webp", "120x80", "-c:v", "libwebp")
    ff_image("lossless.webp", "120x80", "-c:v", "libwebp", "-lossless", "1")
    ff_image("image.gif", "120x80", "-c:v", "gif")
    ff_image("image.bmp", "120x80", "-c:v", "bmp")
    ff_image("image.tiff", "120x80", "-c:v", "tiff")
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=120x80,format=rgb24", "-frames:v", "1",
           "-update", "1", path("pattern.png"))
    im_image("progressive.jpg", "-interlace", "Plane", "-quality", "80")
    im_image("cmyk.jpg", "-colorspace", "CMYK", "-quality", "80")
    im_image("interlaced-adam7.png", "-interlace", "PNG")
    im_image("grayscale.jpg", "-colorspace", "Gray")


def exif_images():
    with open(path("baseline.jpg"), "rb") as f:
        jpeg = f.read()
    for orientation in range(1, 9):
        name = f"exif-orientation-{orientation}.jpg"
        with open(path(name), "wb") as f:
            f.write(jpeg_with_exif(jpeg, orientation))
        add(name, "image", exif_orientation=orientation)
    with open(path("rgb.png"), "rb") as f:
        png = f.read()
    with open(path("exif-orientation-6.png"), "wb") as f:
        f.write(png_with_exif(png, 6))
    add("exif-orientation-6.png", "image", exif_orientation=6)
    with open(path("lossy.webp"), "rb") as f:
        webp = f.read()
    with open(path("exif-orientation-8.webp"), "wb") as f:
        f.write(webp_with_exif(webp, 8, 120, 80))
    add("exif-orientation-8.webp", "image", exif_orientation=8)


def run_all(jobs):
    def run(job):
        function, args, name = job
        function(*args)
        return name
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        list(pool.map(run, jobs))


def main():
    global OUT
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    OUT = sys.argv[1]
    os.makedirs(OUT, exist_ok=True)
    sources()
    jobs = []
    cuts(jobs)
    encodes(jobs)
    containers(jobs)
    images(jobs)
    run_all(jobs)
    videos = [name for _, _, name in jobs if name.endswith((".mp4", ".mov"))]
    jobs = []
    derived(jobs)
    run_all(jobs)
    videos += [name for _, _, name in jobs]
    for name in videos:
        add(name, "video")
    edit_lists()
    damaged()
    exif_images()
    for source in ("src-av.mp4", "src-bframes.mp4", "src-mpeg4.mp4"):
        add(source, "video")
    MANIFEST.sort(key=lambda entry: entry["name"])
    with open(path("manifest.json"), "w") as f:
        json.dump(MANIFEST, f, indent=1)


if __name__ == "__main__":
    main()
