#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for tests: slurmctld and slurmd
# on localhost with munge authentication, all state under $SLURM_LOCAL_DIR.
#   tools/slurm_local/cluster.sh start   # install (root, Debian) and start
#   tools/slurm_local/cluster.sh stop
# Needs Debian's slurm-wlm and munge packages (installed when root).
set -euo pipefail
DIR=${SLURM_LOCAL_DIR:-/tmp/mmcakd-slurm}
CONF=$DIR/slurm.conf

start() {
    if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
        if [ "$(id -u)" = 0 ]; then
            apt-get update -qq
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
        else
            echo 'Slurm is missing: run `sudo apt-get install -y slurm-wlm munge`' >&2
            exit 1
        fi
    fi
    stop 2>/dev/null || true
    mkdir -p "$DIR"/{spool,state,log,munge}
    chmod 700 "$DIR/munge"
    # munge: a fresh key and a private socket for this cluster only.
    dd if=/dev/urandom of="$DIR/munge/munge.key" bs=1024 count=1 status=none
    chmod 400 "$DIR/munge/munge.key"
    munged --force --key-file="$DIR/munge/munge.key" \
        --socket="$DIR/munge/munge.socket" --pid-file="$DIR/munge/munged.pid" \
        --log-file="$DIR/log/munged.log" --seed-file="$DIR/munge/seed"
    node=$(hostname -s)
    cpus=$(nproc)
    cat > "$CONF" <<CONF
ClusterName=mmcakd-local
SlurmctldHost=$node
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$DIR/munge/munge.socket
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
SchedulerType=sched/builtin
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmdSpoolDir=$DIR/spool
StateSaveLocation=$DIR/state
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
SlurmctldPort=${SLURMCTLD_PORT:-16817}
SlurmdPort=${SLURMD_PORT:-16818}
NodeName=$node CPUs=$cpus State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP
CONF
    export SLURM_CONF=$CONF
    slurmctld -f "$CONF"
    slurmd -f "$CONF"
    for _ in $(seq 30); do
        if sinfo -h -o %t 2>/dev/null | grep -q idle; then
            echo "Slurm is up: export SLURM_CONF=$CONF"
            return 0
        fi
        sleep 1
    done
    echo "Slurm did not come up; logs in $DIR/log" >&2
    sinfo >&2 || true
    exit 1
}

stop() {
    for pidfile in "$DIR/slurmd.pid" "$DIR/slurmctld.pid" "$DIR/munge/munged.pid"; do
        [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
    done
    sleep 1
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
