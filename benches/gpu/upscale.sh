#!/bin/sh
# On the GPU machine (see env.sh): upscale's steady rate, the frames between a short and a
# long run over the time between them (start-up left out), for 720x576 and 1920x1080 input,
# at the default tiles and one tile per frame; then where a 1080p frame's time goes (debug
# log). Usage: sh benches/gpu/upscale.sh ["PROPS" ...] (each extra set of properties is run
# at 1080p too). Results also go into $OUT/up.txt.
. benches/gpu/env.sh
python3 - <<'PY'
import numpy as np, cv2
from skimage import data
for (w, h, n) in [(720, 576, 70), (1920, 1080, 50)]:
    img = cv2.resize(cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR), (w, h))
    f = cv2.cvtColor(img, cv2.COLOR_BGR2YUV_I420).tobytes()
    open(f'/tmp/up-{w}.i420', 'wb').write(f * n)
PY
now() { python3 -c 'import time; print(time.time())'; }
t() { # W H FRAMES PROPS: seconds for the run
  s=$(now)
  # shellcheck disable=SC2086
  timeout 200 gst-launch-1.0 -q filesrc location=/tmp/up-$1.i420 ! rawvideoparse format=i420 \
    width=$1 height=$2 framerate=25/1 ! queue max-size-buffers=4 ! upscale method=neural $4 ! \
    fakesink num-buffers=$3 > /dev/null 2>&1
  python3 -c "import time; print(round(time.time() - $s, 3))"
}
run() { # W H LONG SHORT PROPS
  a=$(t "$1" "$2" "$4" "$5"); b=$(t "$1" "$2" "$3" "$5")
  echo "$1x$2 $5: steady $(python3 -c "print(round(($3 - $4) / ($b - $a), 1))") fps" | tee -a "${OUT:-/tmp}/up.txt"
}
run 720 576 70 20 ""
run 720 576 70 20 "tile-size=720"
run 1920 1080 50 10 ""
run 1920 1080 50 10 "tile-size=1920"
for props in "$@"; do run 1920 1080 50 10 "$props"; done
GST_DEBUG=upscale:5 gst-launch-1.0 -q filesrc location=/tmp/up-1920.i420 ! rawvideoparse \
  format=i420 width=1920 height=1080 framerate=25/1 ! upscale method=neural ! \
  fakesink num-buffers=12 2>&1 | grep -o "batch of .*" | tail -3 | tee -a "${OUT:-/tmp}/up.txt"
