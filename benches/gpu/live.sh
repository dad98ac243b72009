# Usage: live.sh "N MODE [live] [CHAIN] [PROPS]" ... : one line per configuration.
# TIMEOUT (seconds, default 150) bounds each run, start-up of its sessions included.
. benches/gpu/env.sh
for c in "$@"; do
  echo "== $c"
  # shellcheck disable=SC2086
  timeout "${TIMEOUT:-150}" $S $(echo $c | cut -d' ' -f1-2) $RAW 1920x1080 $(echo $c | cut -d' ' -f3-) 2>&1 | grep -v "^$" | grep -v "GStreamer-WARNING" | tail -2
done
