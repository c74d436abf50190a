#!/usr/bin/env bash
# Kernel settings for the UDP relay receiver, applied idempotently:
#   net.core.busy_poll          PE_BUSY_POLL_US  (default 50)   poll()/select() busy-poll budget, us
#   net.core.busy_read          PE_BUSY_POLL_US  (default 50)   blocking-read busy-poll budget, us
#   net.core.rmem_max           PE_RMEM_MAX      (default 16 MiB) ceiling for SO_RCVBUF
#   net.core.rmem_default       PE_RMEM_DEFAULT  (default 1 MiB)
#   net.core.wmem_max           PE_WMEM_MAX      (default 16 MiB)
#   net.core.netdev_max_backlog PE_BACKLOG       (default 5000)
# and the affinity of the network device IRQs (lines of /proc/interrupts
# matching PE_IRQ_MATCH) to PE_IRQ_CPU (default: PE_CPU_RELAY, else 1 on a
# multi-core machine), so packets are handled on the relay receiver's core;
# IRQs the kernel will not move are reported and left alone.
#
# Every change is printed as "name: old -> new". The first value seen for
# each setting is saved in the state file (PE_TUNE_STATE, default
# /var/lib/polyedge/kernel-tune.state); later runs keep those originals.
#
# Usage: scripts/kernel-tune.sh [--dry-run] [--undo]
#   --dry-run  print what would change, change nothing
#   --undo     restore every saved value, then remove the state file
set -euo pipefail

usage() {
  sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

dry_run=0
undo=0
for arg in "$@"; do
  case "$arg" in
    --dry-run) dry_run=1 ;;
    --undo) undo=1 ;;
    -h | --help) usage ;;
    *)
      echo "kernel-tune: unknown argument $arg" >&2
      usage
      ;;
  esac
done

state=${PE_TUNE_STATE:-/var/lib/polyedge/kernel-tune.state}
ncpu=$(nproc --all)
if ((ncpu >= 2)); then default_irq_cpu=1; else default_irq_cpu=0; fi
irq_cpu=${PE_IRQ_CPU:-${PE_CPU_RELAY:-$default_irq_cpu}}
irq_match=${PE_IRQ_MATCH:-'virtio[0-9]+-input\.[0-9]+|eth[0-9]|ens[0-9]|enp[0-9]|eno[0-9]|mlx[0-9]|ixgbe|i40e|ice-|ena-|gve'}

settings=(
  "net.core.busy_poll=${PE_BUSY_POLL_US:-50}"
  "net.core.busy_read=${PE_BUSY_POLL_US:-50}"
  "net.core.rmem_max=${PE_RMEM_MAX:-16777216}"
  "net.core.rmem_default=${PE_RMEM_DEFAULT:-1048576}"
  "net.core.wmem_max=${PE_WMEM_MAX:-16777216}"
  "net.core.netdev_max_backlog=${PE_BACKLOG:-5000}"
)

for s in "${settings[@]}"; do
  if ! [[ ${s#*=} =~ ^[0-9]+$ ]]; then
    echo "kernel-tune: ${s%%=*} must be a whole number, got '${s#*=}'" >&2
    exit 2
  fi
done
if ! [[ $irq_cpu =~ ^[0-9]+$ ]] || ((irq_cpu >= ncpu)); then
  echo "kernel-tune: IRQ cpu $irq_cpu is not a CPU of this machine (0..$((ncpu - 1)))" >&2
  exit 2
fi
if ((dry_run == 0)) && ((EUID != 0)); then
  echo "kernel-tune: needs root (or use --dry-run)" >&2
  exit 1
fi

sysctl_path() {
  echo "/proc/sys/${1//.//}"
}

# Saved original of KIND KEY, or nothing.
saved() {
  [[ -f $state ]] || return 0
  awk -v k="$1" -v n="$2" '$1 == k && $2 == n { $1 = ""; $2 = ""; sub(/^  /, ""); print; exit }' "$state"
}

save_once() {
  local kind=$1 key=$2 value=$3
  ((dry_run)) && return 0
  [[ -n $(saved "$kind" "$key") ]] && return 0
  mkdir -p "$(dirname "$state")"
  printf '%s %s %s\n' "$kind" "$key" "$value" >>"$state"
}

# Writes VALUE to FILE unless it already holds it; prints the change.
apply() {
  local name=$1 file=$2 want=$3 kind=$4 key=$5 have
  have=$(tr -s '[:space:]' ' ' <"$file" | sed 's/ $//')
  if [[ $have == "$want" ]]; then
    echo "$name: $have (already)"
    return 0
  fi
  if ((dry_run)); then
    echo "$name: $have -> $want (dry run)"
    return 0
  fi
  save_once "$kind" "$key" "$have"
  if printf '%s\n' "$want" >"$file" 2>/dev/null; then
    echo "$name: $have -> $want"
  else
    echo "$name: $have, cannot set $want (left as is)" >&2
  fi
}

net_irqs() {
  grep -E "$irq_match" /proc/interrupts | awk -F: '{ gsub(/ /, "", $1); if ($1 ~ /^[0-9]+$/) print $1 }' || true
}

if ((undo)); then
  if [[ ! -f $state ]]; then
    echo "kernel-tune: nothing to undo ($state does not exist)"
    exit 0
  fi
  while read -r kind key value; do
    case "$kind" in
      sysctl) file=$(sysctl_path "$key") ;;
      irq) file=/proc/irq/$key/smp_affinity_list ;;
      *) continue ;;
    esac
    [[ -e $file ]] || {
      echo "$kind $key: gone, not restored" >&2
      continue
    }
    have=$(tr -s '[:space:]' ' ' <"$file" | sed 's/ $//')
    if [[ $have == "$value" ]]; then
      echo "$kind $key: $have (already)"
    elif ((dry_run)); then
      echo "$kind $key: $have -> $value (dry run)"
    elif printf '%s\n' "$value" >"$file" 2>/dev/null; then
      echo "$kind $key: $have -> $value"
    else
      echo "$kind $key: cannot restore $value" >&2
    fi
  done <"$state"
  ((dry_run)) || rm -f "$state"
  exit 0
fi

for s in "${settings[@]}"; do
  key=${s%%=*}
  file=$(sysctl_path "$key")
  if [[ ! -e $file ]]; then
    echo "$key: not available on this kernel (skipped)"
    continue
  fi
  apply "$key" "$file" "${s#*=}" sysctl "$key"
done

irqs=$(net_irqs)
if [[ -z $irqs ]]; then
  echo "irq: no network device IRQs match '$irq_match' in /proc/interrupts (skipped)"
fi
for irq in $irqs; do
  file=/proc/irq/$irq/smp_affinity_list
  if [[ ! -w $file ]]; then
    echo "irq $irq: $file is not writable (skipped)"
    continue
  fi
  apply "irq $irq" "$file" "$irq_cpu" irq "$irq"
done
