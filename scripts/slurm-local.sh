#!/bin/sh
# A Slurm cluster of two nodes on this host, for the batch tests: Debian's slurmctld, two
# slurmd (n1, n2, one CPU each) and munged on its own socket and key, everything (config,
# state, logs, PIDs) in DIR. `stop` ends what `start` started, by the PIDs it wrote.
#
#   scripts/slurm-local.sh start DIR    then: SLURM_CONF=DIR/slurm.conf sbatch ...
#   scripts/slurm-local.sh stop DIR
#
# Ports 16817 (controller), 16901 and 16902 (nodes). Cgroup plugins are left out (their jobs
# never ran yet were recorded COMPLETED on this kind of host), as is accounting (no slurmdbd):
# finished jobs are in DIR/jobcomp.txt.
set -eu
[ $# -eq 2 ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }
DIR=$(mkdir -p "$2" && cd "$2" && pwd)
export SLURM_CONF="$DIR/slurm.conf"

stop() {
    pids=""
    for f in "$DIR"/slurmd-n1.pid "$DIR"/slurmd-n2.pid "$DIR"/slurmctld.pid "$DIR"/munge/munged.pid; do
        [ -r "$f" ] && pids="$pids $(cat "$f")"
    done
    for pid in $pids; do kill "$pid" 2>/dev/null || true; done
    # Until they are gone (the controller saves its state first), then no more waiting.
    i=0
    while [ $i -lt 50 ]; do
        alive=""
        for pid in $pids; do kill -0 "$pid" 2>/dev/null && alive="$alive $pid"; done
        [ -n "$alive" ] || break
        sleep 0.2
        i=$((i + 1))
    done
    for pid in $pids; do kill -9 "$pid" 2>/dev/null || true; done
    rm -f "$DIR"/*.pid "$DIR"/munge/munged.pid
}

case "$1" in
    stop) stop; exit 0 ;;
    start) ;;
    *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
stop
rm -rf "$DIR/state" "$DIR/spool-n1" "$DIR/spool-n2" "$DIR/munge" "$DIR/jobcomp.txt"
mkdir -p "$DIR/state" "$DIR/spool-n1" "$DIR/spool-n2" "$DIR/munge"
chmod 700 "$DIR/munge"
dd if=/dev/urandom of="$DIR/munge/munge.key" bs=1024 count=1 2>/dev/null
chmod 400 "$DIR/munge/munge.key"
/usr/sbin/munged --socket="$DIR/munge/munge.socket" --key-file="$DIR/munge/munge.key" \
    --pid-file="$DIR/munge/munged.pid" --log-file="$DIR/munge/munged.log" \
    --seed-file="$DIR/munge/seed" --force
user=$(id -un)
cat >"$SLURM_CONF" <<EOF
ClusterName=mediaai
SlurmctldHost=localhost
SlurmctldPort=16817
AuthType=auth/munge
AuthInfo=socket=$DIR/munge/munge.socket
CredType=cred/munge
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool-%n
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd-%n.pid
SlurmctldLogFile=$DIR/slurmctld.log
SlurmdLogFile=$DIR/slurmd-%n.log
ProctrackType=proctrack/pgid
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$DIR/jobcomp.txt
SlurmUser=$user
SlurmdUser=$user
SwitchType=switch/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
NodeName=n1 NodeHostname=localhost Port=16901 CPUs=1 State=UNKNOWN
NodeName=n2 NodeHostname=localhost Port=16902 CPUs=1 State=UNKNOWN
PartitionName=media Nodes=n1,n2 Default=YES MaxTime=INFINITE State=UP
EOF
/usr/sbin/slurmctld -f "$SLURM_CONF"
/usr/sbin/slurmd -f "$SLURM_CONF" -N n1
/usr/sbin/slurmd -f "$SLURM_CONF" -N n2
# Until both nodes take work.
i=0
until [ "$(sinfo -h -N -t idle -o %N 2>/dev/null | sort -u | wc -l)" -ge 2 ]; do
    i=$((i + 1))
    [ "$i" -lt 60 ] || { echo "slurm-local: the nodes never came up (see $DIR/*.log)" >&2; stop; exit 1; }
    sleep 0.5
done
echo "slurm-local: n1 and n2 up (SLURM_CONF=$SLURM_CONF)"
