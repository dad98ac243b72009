# Usage: live.sh "N MODE [live] [CHAIN] [PROPS]" ... : one line per configuration.
# TIMEOUT (seconds, default 150) bounds each run, start-up of its sessions included.
# Each result also goes into $OUT/live.txt (the device's folder that comes back), with the
# MEDIAAI_ settings it ran under: a call that runs out of time still brings back the
# configurations it finished.
. benches/gpu/env.sh
for c in "$@"; do
  echo "== $(env | grep '^MEDIAAI_' | grep -v MODEL_DIR | tr '\n' ' ')$c" | tee -a "${OUT:-/tmp}/live.txt"
  # shellcheck disable=SC2086
  timeout "${TIMEOUT:-150}" $S $(echo $c | cut -d' ' -f1-2) $RAW 1920x1080 $(echo $c | cut -d' ' -f3-) 2>&1 | grep -v "^$" | grep -v "GStreamer-WARNING" | tail -2 | tee -a "${OUT:-/tmp}/live.txt"
done
