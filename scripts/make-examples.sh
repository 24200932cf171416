#!/usr/bin/env bash
# Regenerates the bundled example datasets under examples/ with Debian's ffmpeg.
#
#   examples/i2v-train   20 first-frame samples, flat layout (spec §2.1)
#   examples/kf2v-train  10 first+last-frame samples, image/ and video/ subfolders
#   examples/i2v-val      3 validation lines (images only)
#
# The clips are real H.264 MP4 files made with ffmpeg, small enough that all example media
# together stay under ~3 MB. The prompts follow spec §2.7 with made-up trigger
# words (v7nq2r for the i2v effect, k3pz9t for the kf2v transformation).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v ffmpeg >/dev/null || { echo "ffmpeg is required (apt-get install ffmpeg)" >&2; exit 2; }

ff() { ffmpeg -hide_banner -loglevel error -y "$@"; }

# Every clip is a camera pan over its own still picture (a region of the Mandelbrot set): the
# whole picture moves, no two clips share a frame, no region stays fixed, no black frames or
# bars, and the first and last-frame images are the clip's own frames. `wanft check --deep`
# finds nothing to say about them (tests/check_rules.rs keeps it so).
spots=("-0.743 0.131 0.05" "0.275 0.006 0.03" "-0.1011 0.9563 0.02" "-1.25066 0.02012 0.01"
  "-0.748 0.1 0.02" "-0.16 1.0405 0.03" "-0.722 0.246 0.03" "-1.768 0.001 0.02"
  "0.2549 0.0005 0.01" "-0.5252 0.5252 0.02" "-0.4 0.6 0.08" "0.36 0.1 0.05" "-1.4 0.0 0.05"
  "-0.235 0.827 0.03" "-0.7463 0.1102 0.01" "-0.925 0.266 0.03" "-0.1592 -1.0317 0.03"
  "0.432 0.226 0.03" "-1.04 0.35 0.05" "-0.55 -0.62 0.05" "0.28 -0.53 0.05" "-1.3 0.07 0.03"
  "-0.69 0.38 0.04" "-0.8 -0.18 0.04" "0.3 0.02 0.02" "-0.12 -0.75 0.06" "-1.62 0.0 0.03"
  "-0.04 0.986 0.02" "0.39 -0.2 0.04" "-0.75 -0.05 0.03" "-0.17 0.66 0.05" "0.35 -0.38 0.05"
  "-1.0 0.27 0.04")

# still OUT SPOT_INDEX: a 960×720 picture of spot SPOT_INDEX.
still() {
  read -r x y scale <<< "${spots[$2]}"
  ff -f lavfi -i "mandelbrot=size=960x720:start_x=$x:start_y=$y:start_scale=$scale:maxiter=400" \
     -vf gblur=sigma=2 -frames:v 1 "$1"
}

# clip OUT SPOT_INDEX SIZE SECONDS: a pan across the still of SPOT_INDEX, direction and speed
# varying with it.
clip() {
  local out=$1 spot=$2 size=$3 secs=$4
  local w=${size%x*} h=${size#*x}
  local vx=$(( (spot % 5 - 2) * 25 + 15 )) vy=$(( (spot % 3 - 1) * 30 + 10 ))
  local still_png; still_png=$(mktemp --suffix=.png)
  still "$still_png" "$spot"
  ff -loop 1 -framerate 16 -i "$still_png" -t "$secs" \
     -vf "crop=$w:$h:x='(960-$w)/2+(t-$secs/2)*$vx':y='(720-$h)/2+(t-$secs/2)*$vy',format=yuv420p" \
     -c:v libx264 -preset veryslow -crf 36 -x264-params threads=1 -movflags +faststart -an "$out"
  rm -f "$still_png"
}
# JPEG at quality 5, PNG as small as lossless gets.
image_opts=(-q:v 5 -pred mixed -compression_level 9)
first_frame() { ff -i "$1" -frames:v 1 "${image_opts[@]}" "$2"; }
last_frame()  { ff -sseof -0.1 -i "$1" -frames:v 1 -update 1 "${image_opts[@]}" "$2"; }

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
  size=${sizes[$(( (i - 1) % ${#sizes[@]} ))]}
  secs=$(( 3 + i % 3 ))
  ext=$([ $(( i % 2 )) -eq 0 ] && echo png || echo jpg)
  clip "examples/i2v-train/$n.mp4" $(( i - 1 )) "$size" "$secs"
  first_frame "examples/i2v-train/$n.mp4" "examples/i2v-train/${n}_first.$ext"
  prompt="The video begins showing ${subjects[$((i - 1))]}. ${places[$((i - 1))]} $i2v_effect"
  printf '{"prompt":"%s","first_frame_path":"%s","video_path":"%s"}\n' \
    "$prompt" "${n}_first.$ext" "$n.mp4" >> examples/i2v-train/data.jsonl
done

# kf2v training set: image/ and video/ subfolders, first and last frames.
: > examples/kf2v-train/data.jsonl
for i in $(seq 1 10); do
  n=$(printf 'clip%02d' "$i")
  size=${sizes[$(( i % ${#sizes[@]} ))]}
  clip "examples/kf2v-train/video/$n.mp4" $(( i + 19 )) "$size" 4
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
  read -r x y scale <<< "${spots[$(( i + 29 ))]}"
  ff -f lavfi -i "mandelbrot=size=${sizes[$i]}:start_x=$x:start_y=$y:start_scale=$scale:maxiter=400" \
     -vf gblur=sigma=2 -frames:v 1 "${image_opts[@]}" "examples/i2v-val/$n.$ext"
  prompt="The video begins showing ${subjects[$((i + 4))]}. ${places[$((i + 7))]} $i2v_effect"
  printf '{"prompt":"%s","first_frame_path":"%s"}\n' "$prompt" "$n.$ext" \
    >> examples/i2v-val/data.jsonl
done

du -sh examples/i2v-train examples/kf2v-train examples/i2v-val
