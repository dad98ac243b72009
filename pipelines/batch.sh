#!/bin/sh
# Many files through one pipeline script, as one job: on one machine several at once, or one
# file per task of a scheduler's job array (Slurm's --array, a Kubernetes Indexed Job).
#
#   pipelines/batch.sh PIPELINE INPUTS OUTDIR      every file (JOBS at once), then the manifest
#   pipelines/batch.sh gather OUTDIR               the manifest of tasks that ran on their own
#
# PIPELINE: anonymize, vhs-restore, upscale, denoise-audio or qc-report (its knobs, e.g.
# DETECT_OPTS or QC_PROFILE, pass through). INPUTS: a folder (its files, not its subfolders) or
# a text file listing one path per line. Each file's output is OUTDIR/NAME.mp4 (denoise-audio:
# NAME.mkv; qc-report: NAME.json, NAME-audio.json and NAME.html), NAME its file name without
# its extension; two inputs of one name are refused before anything runs. The pipeline scripts
# write under a temporary name and rename when complete, so an output that exists is whole: a
# re-run skips it (resumable), and a killed or requeued task leaves nothing that looks done.
# Each file's messages go to OUTDIR/logs/NAME.log.
#
# A task killed by a signal removes its temporary output itself; one killed outright (SIGKILL, as
# `scancel` does to a batch task) leaves it for `gather` to remove.
#
# OUTDIR/manifest.csv accounts for every input exactly once: index, input, output, status
# (done, skipped: complete before, failed, missing: no task reported it), seconds, video frames
# in and out (packets counted by ffprobe; empty without video), the script's exit status, the
# first line of its error, and the attempts made. Exit status 1 when any file failed or is missing, listing them.
#
# Knobs: JOBS (files at once, default 1: a pipeline already uses every core it can);
# BATCH_RETRIES (default 0): a file that fails is tried again at most that many times;
# BATCH_INDEX (or Slurm's SLURM_ARRAY_TASK_ID, or a Kubernetes Indexed Job's
# JOB_COMPLETION_INDEX): run only the file at that index (from 0, in the order
# the manifest lists them) and write its manifest line, for job arrays, whose last step is
# `batch.sh gather OUTDIR`.
set -eu
HERE=$(dirname "$0")

usage() {
    echo "usage: $0 anonymize|vhs-restore|upscale|denoise-audio|qc-report INPUTS OUTDIR" >&2
    echo "       $0 gather OUTDIR" >&2
    exit 2
}

# The manifest from each task's line; exit 1 listing the inputs that failed or are missing.
gather() {
    out=$1
    list="$out/.batch/inputs"
    [ -r "$list" ] || { echo "batch: $out holds no batch (no $list)" >&2; exit 2; }
    manifest="$out/manifest.csv"
    {
        echo "index,input,output,status,seconds,frames_in,frames_out,exit,error,attempts"
        i=0
        while IFS= read -r input; do
            line="$out/.batch/done/$i.csv"
            if [ -r "$line" ]; then
                cat "$line"
            else
                printf '%s,"%s",,missing,,,,,"no task reported it",0\n' "$i" "$input"
                # A task killed outright (a scheduler's SIGKILL) cannot remove its temporary
                # output: no half file stays behind a missing entry.
                name=$(basename "$input")
                rm -f "$out/.${name%.*}".*.part
            fi
            i=$((i + 1))
        done <"$list"
    } >"$manifest.part"
    mv -f "$manifest.part" "$manifest"
    bad=$(awk -F, 'NR > 1 && ($4 == "failed" || $4 == "missing")' "$manifest")
    total=$(($(wc -l <"$manifest") - 1))
    if [ -n "$bad" ]; then
        echo "batch: $(printf '%s\n' "$bad" | wc -l) of $total files failed or are missing (manifest: $manifest):" >&2
        printf '%s\n' "$bad" | awk -F, '{ print "  " $2 ": " $4 " " $9 }' >&2
        exit 1
    fi
    echo "batch: $total files done (manifest: $manifest)"
}

[ $# -ge 2 ] || usage
if [ "$1" = gather ]; then
    [ $# -eq 2 ] || usage
    gather "$2"
    exit 0
fi
[ $# -eq 3 ] || usage
PIPELINE=$1 INPUTS=$2 OUTDIR=$3
case "$PIPELINE" in
    anonymize | vhs-restore | upscale) ext=mp4 ;;
    denoise-audio) ext=mkv ;;
    qc-report) ext=json ;;
    *) usage ;;
esac
mkdir -p "$OUTDIR/.batch/done" "$OUTDIR/logs"

# The inputs, once, in a fixed order: every task of an array reads the same list.
list="$OUTDIR/.batch/inputs"
if [ -d "$INPUTS" ]; then
    find "$INPUTS" -maxdepth 1 -type f ! -name '.*' | LC_ALL=C sort >"$list.part.$$"
elif [ -r "$INPUTS" ]; then
    grep -v '^[[:space:]]*$' "$INPUTS" >"$list.part.$$" || true
else
    echo "batch: cannot read $INPUTS (a folder or a list of files)" >&2
    exit 2
fi
dupes=$(sed 's|.*/||; s|\.[^.]*$||' "$list.part.$$" | LC_ALL=C sort | uniq -d)
if [ -n "$dupes" ]; then
    rm -f "$list.part.$$"
    echo "batch: inputs share names, their outputs would collide: $(echo "$dupes" | tr '\n' ' ')" >&2
    exit 2
fi
mv -f "$list.part.$$" "$list"
count=$(wc -l <"$list")
[ "$count" -gt 0 ] || { echo "batch: no files in $INPUTS" >&2; exit 2; }

# Video packets of FILE's first video stream (empty without one).
frames() {
    ffprobe -v error -select_streams v:0 -count_packets -show_entries stream=nb_read_packets \
        -of csv=p=0 "$1" 2>/dev/null | head -n 1 | tr -d ' ,'
}

# One file: the pipeline, unless its output is complete already; its manifest line.
run_one() {
    i=$1
    input=$(sed -n "$((i + 1))p" "$list")
    [ -n "$input" ] || { echo "batch: no input $i (there are $count)" >&2; exit 2; }
    name=$(basename "$input")
    name=${name%.*}
    output="$OUTDIR/$name.$ext"
    done_when="$output"
    [ "$PIPELINE" != qc-report ] || done_when="$OUTDIR/$name.html"
    log="$OUTDIR/logs/$name.log"
    started=$(date +%s.%N)
    status=done code=0
    attempts=0
    if [ -e "$done_when" ]; then
        status=skipped
    else
        # A failed file is tried again, BATCH_RETRIES times at most (a node's passing trouble:
        # a GPU reset, a full scratch disk); each attempt's messages are kept in the log.
        : >"$log"
        while :; do
            attempts=$((attempts + 1))
            code=0
            QUIET=1 "$HERE/$PIPELINE.sh" "$input" "$output" >>"$log" 2>&1 || code=$?
            [ "$code" -ne 0 ] && [ "$attempts" -le "${BATCH_RETRIES:-0}" ] || break
            echo "batch: attempt $attempts failed (exit $code); trying again" >>"$log"
        done
        [ "$code" -eq 0 ] || status=failed
    fi
    seconds=$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
    fin=$(frames "$input")
    fout=""
    [ "$status" = failed ] || [ "$PIPELINE" = qc-report ] || fout=$(frames "$output")
    error=""
    [ "$status" != failed ] || error=$(grep -m 1 . "$log" | tr -d '"' | cut -c1-300)
    printf '%s,"%s","%s",%s,%s,%s,%s,%s,"%s",%s\n' "$i" "$input" "$output" "$status" "$seconds" \
        "$fin" "$fout" "$code" "$error" "$attempts" >"$OUTDIR/.batch/done/$i.csv.part"
    mv -f "$OUTDIR/.batch/done/$i.csv.part" "$OUTDIR/.batch/done/$i.csv"
    echo "batch: $name: $status" >&2
    return "$code"
}

index=${BATCH_INDEX:-${SLURM_ARRAY_TASK_ID:-${JOB_COMPLETION_INDEX:-}}}
if [ -n "$index" ]; then
    # The task's status is the file's: a scheduler can requeue the index that failed.
    code=0
    run_one "$index" || code=$?
    exit "$code"
fi
# Every file, JOBS at once (each index in a process of its own), then the manifest.
rm -f "$OUTDIR"/.batch/done/*.csv
seq 0 $((count - 1)) | xargs -P "${JOBS:-1}" -I{} env BATCH_INDEX={} "$0" "$PIPELINE" "$INPUTS" "$OUTDIR" || true
gather "$OUTDIR"
