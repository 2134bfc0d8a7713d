#!/bin/bash
# A real SLURM on one machine (a workstation, or CI): Debian's slurm-wlm and munge, one node that offers what the
# recipe's #SBATCH lines ask for (CPUs and memory beyond the machine's are allowed by config_overrides; the GPU is a
# count, /dev/null). Run as root; idempotent: daemons already running are left alone. Then submit.sh works as on a
# cluster. Stop it again with: pkill slurmd; pkill slurmctld; pkill munged
set -euo pipefail
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
fi
node=$(hostname)
cat > /etc/slurm/slurm.conf <<CONF
ClusterName=kit
SlurmctldHost=$node
AuthType=auth/munge
SlurmUser=root
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SlurmdParameters=config_overrides
GresTypes=gpu
ReturnToService=2
JobRequeue=1
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SlurmctldLogFile=/var/log/slurmctld.log
SlurmdLogFile=/var/log/slurmd.log
NodeName=$node CPUs=8 RealMemory=32768 Gres=gpu:1 State=UNKNOWN
PartitionName=main Nodes=$node Default=YES MaxTime=INFINITE State=UP
CONF
echo "Name=gpu Count=1 File=/dev/null" > /etc/slurm/gres.conf
mkdir -p /var/spool/slurmctld /var/spool/slurmd /run/munge
chown munge:munge /run/munge
[ -s /etc/munge/munge.key ] || mungekey -c -k /etc/munge/munge.key
chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
pgrep -x munged >/dev/null || su -s /bin/sh munge -c /usr/sbin/munged
pgrep -x slurmctld >/dev/null || slurmctld
pgrep -x slurmd >/dev/null || slurmd
for _ in $(seq 30); do
  sinfo -h -o %t 2>/dev/null | grep -qx idle && { echo "SLURM up: $(sinfo -h -o '%P %D %t')"; exit 0; }
  sleep 1
done
echo "SLURM did not come up: see /var/log/slurmctld.log and /var/log/slurmd.log" >&2
exit 1
