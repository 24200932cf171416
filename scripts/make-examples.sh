#!/usr/bin/env bash
# Regenerates the bundled example datasets under examples/ with Debian's ffmpeg.
#
#   examples/i2v-train   20 first-frame samples, flat layout (spec §2.1)
#   examples/kf2v-train  10 first+last-frame samples, image/ and video/ subfolders
#   examples/i2v-val      3 validation lines (images only)
#
# The clips are real H.264 MP4 files made from ffmpeg's synthetic sources, small enough that all
# example media together stay under ~3 MB. The prompts follow spec §2.7 with made-up trigger
# words (v7nq2r for the i2v effect, k3pz9t for the kf2v transformation).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v ffmpeg >/dev/null || { echo "ffmpeg is required (apt-get install ffmpeg)" >&2; exit 2; }

ff() { ffmpeg -hide_banner -loglevel error -y "$@"; }

# clip OUT SOURCE SIZE SECONDS HUE_SPEED
clip() {
  local out=$1 src=$2 size=$3 secs=$4 hue=$5
  ff -f lavfi -i "${src}=size=${size}:rate=16" -t "$secs" \
     -vf "hue=h=t*${hue},format=yuv420p" -c:v libx264 -preset veryslow -crf 36 \
     -x264-params threads=1 -movflags +faststart -an "$out"
}
first_frame() { ff -i "$1" -frames:v 1 -q:v 5 "$2"; }
last_frame()  { ff -sseof -0.1 -i "$1" -frames:v 1 -update 1 -q:v 5 "$2"; }

sources=(testsrc2 mandelbrot gradients cellauto smptebars rgbtestsrc sierpinski)
sizes=(320x240 240x320 320x320 320x240 240x320)
subjects=("a grey cat on a windowsill" "a cyclist in a red jacket" "an old man reading a newspaper"
  "a girl holding a paper lantern" "a golden retriever on a sofa" "a chef plating a dessert"
  "a dancer in a white dress" "a boy with a skateboard" "a woman drinking coffee"
  "a violinist on a stage" "a toddler with a balloon" "a fisherman mending a net"
  "a nurse in blue scrubs" "a teenager playing a guitar" "a grandmother knitting"
  "a mechanic wiping his hands" "a runner stretching" "a painter at an easel"
  "a student with headphones" "a barista steaming milk")
places=("Warm evening light fills a small kitchen." "A rainy city street at night."
  "A quiet library with tall shelves." "A lantern festival by a river."
  "A sunlit living room with plants." "A bright restaurant kitchen." "An empty theatre stage."
  "A concrete skate park at dusk." "A cafe terrace in the morning." "A concert hall in soft light."
  "A park lawn on a windy day." "A harbour with moored boats." "A hospital corridor."
  "A cluttered bedroom with posters." "A cosy armchair by a fireplace." "A garage with tools on the wall."
  "A running track at sunrise." "An artist's loft with big windows." "A university courtyard."
  "A busy coffee bar.")
i2v_effect="Then the v7nq2r ripple shatter effect begins, the scene cracks like glass and the shards drift outward in slow motion."
kf2v_effect="Then the subject starts the k3pz9t paper-fold transformation."

rm -rf examples/i2v-train examples/kf2v-train examples/i2v-val
mkdir -p examples/i2v-train examples/kf2v-train/image examples/kf2v-train/video examples/i2v-val

# i2v training set: flat layout, JPEG and PNG first frames, 3-5 s clips of varied shapes.
: > examples/i2v-train/data.jsonl
for i in $(seq 1 20); do
  n=$(printf 'clip%02d' "$i")
  src=${sources[$(( (i - 1) % ${#sources[@]} ))]}
  size=${sizes[$(( (i - 1) % ${#sizes[@]} ))]}
  secs=$(( 3 + i % 3 ))
  ext=$([ $(( i % 2 )) -eq 0 ] && echo png || echo jpg)
  clip "examples/i2v-train/$n.mp4" "$src" "$size" "$secs" $(( 20 + i * 7 ))
  first_frame "examples/i2v-train/$n.mp4" "examples/i2v-train/${n}_first.$ext"
  prompt="The video begins showing ${subjects[$((i - 1))]}. ${places[$((i - 1))]} $i2v_effect"
  printf '{"prompt":"%s","first_frame_path":"%s","video_path":"%s"}\n' \
    "$prompt" "${n}_first.$ext" "$n.mp4" >> examples/i2v-train/data.jsonl
done

# kf2v training set: image/ and video/ subfolders, first and last frames.
: > examples/kf2v-train/data.jsonl
for i in $(seq 1 10); do
  n=$(printf 'clip%02d' "$i")
  src=${sources[$(( (i + 2) % ${#sources[@]} ))]}
  size=${sizes[$(( i % ${#sizes[@]} ))]}
  clip "examples/kf2v-train/video/$n.mp4" "$src" "$size" 4 $(( 15 + i * 11 ))
  first_frame "examples/kf2v-train/video/$n.mp4" "examples/kf2v-train/image/${n}_first.jpg"
  last_frame "examples/kf2v-train/video/$n.mp4" "examples/kf2v-train/image/${n}_last.png"
  prompt="The video begins showing ${subjects[$((i + 9))]}. ${places[$((i + 9))]} $kf2v_effect"
  printf '{"prompt":"%s","first_frame_path":"%s","last_frame_path":"%s","video_path":"%s"}\n' \
    "$prompt" "image/${n}_first.jpg" "image/${n}_last.png" "video/$n.mp4" \
    >> examples/kf2v-train/data.jsonl
done

# i2v validation set: images only; the platform renders a preview from each line.
: > examples/i2v-val/data.jsonl
for i in 1 2 3; do
  n=$(printf 'val%02d' "$i")
  ext=$([ "$i" -eq 2 ] && echo png || echo jpg)
  # PNG without alpha: the platform refuses alpha in generation inputs (spec §6.18), and
  # `wanft run` starts a sample video from each validation image.
  pix=(); [ "$ext" = png ] && pix=(-pix_fmt rgb24)
  ff -f lavfi -i "${sources[$((i + 3))]}=size=${sizes[$i]}:rate=1" -frames:v 1 -q:v 5 \
     "${pix[@]}" "examples/i2v-val/$n.$ext"
  prompt="The video begins showing ${subjects[$((i + 4))]}. ${places[$((i + 7))]} $i2v_effect"
  printf '{"prompt":"%s","first_frame_path":"%s"}\n' "$prompt" "$n.$ext" \
    >> examples/i2v-val/data.jsonl
done

du -sh examples/i2v-train examples/kf2v-train examples/i2v-val
