#!/usr/bin/env bash
# Runs a polyedge command with a fixed CPU layout and prints the layout it
# applied:
#   main thread (the process's first thread)        -> PE_CPU_MAIN  (default 0)
#   every other thread: feed workers, V8 and libuv   -> PE_CPU_FEEDS (default 1; 0 on one core)
#   the relay receive thread (named "relay-recv")    -> PE_CPU_RELAY (default: PE_CPU_FEEDS)
#
# The command starts under `taskset -c MAIN`, so nothing runs elsewhere
# before it is placed. For PE_PIN_WATCH_S seconds (default 10) the script
# then watches /proc/PID/task and moves every thread whose affinity differs
# from the layout, including threads the program pinned itself (the engine
# pins feed workers from [cpu] in its config): within the window this
# script's layout wins, and every move is printed. Threads started after the
# window keep the affinity of the thread that created them.
#
# Usage: scripts/run-pinned.sh [--] COMMAND [ARGS...]
#   e.g. PE_CPU_RELAY=1 scripts/run-pinned.sh node dist/engine/cli/main.js relay recv --bind 0.0.0.0:9000 --spin
# Exits with the command's status; SIGINT/SIGTERM are passed on to it.
set -euo pipefail

usage() {
  sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

[[ $# -ge 1 ]] || usage
case "$1" in
  -h | --help) usage ;;
  --) shift ;;
esac
[[ $# -ge 1 ]] || usage

ncpu=$(nproc --all)
if ((ncpu >= 2)); then default_other=1; else default_other=0; fi
main_cpu=${PE_CPU_MAIN:-0}
feeds_cpu=${PE_CPU_FEEDS:-$default_other}
relay_cpu=${PE_CPU_RELAY:-$feeds_cpu}
watch_s=${PE_PIN_WATCH_S:-10}

check_cpu() {
  local name=$1 value=$2
  if ! [[ $value =~ ^[0-9]+$ ]] || ((value >= ncpu)); then
    echo "run-pinned: $name=$value is not a CPU of this machine (0..$((ncpu - 1)))" >&2
    exit 2
  fi
}
check_cpu PE_CPU_MAIN "$main_cpu"
check_cpu PE_CPU_FEEDS "$feeds_cpu"
check_cpu PE_CPU_RELAY "$relay_cpu"
if ! [[ $watch_s =~ ^[0-9]+$ ]]; then
  echo "run-pinned: PE_PIN_WATCH_S=$watch_s is not a whole number of seconds" >&2
  exit 2
fi
command -v taskset >/dev/null || {
  echo "run-pinned: taskset not found (util-linux)" >&2
  exit 2
}

echo "run-pinned: layout on $ncpu CPUs: main thread -> cpu $main_cpu, feed workers and other threads -> cpu $feeds_cpu, relay-recv -> cpu $relay_cpu (watching ${watch_s}s)" >&2

taskset -c "$main_cpu" "$@" &
pid=$!
trap 'kill -s INT "$pid" 2>/dev/null || true' INT
trap 'kill -s TERM "$pid" 2>/dev/null || true' TERM

# Cpus_allowed_list of one thread, e.g. "1" or "0-1"; empty once it is gone.
allowed() {
  local line
  while IFS= read -r line; do
    if [[ $line == Cpus_allowed_list:* ]]; then
      echo "${line#*:}" | tr -d '[:space:]'
      return
    fi
  done <"$1/status" 2>/dev/null || true
}

deadline=$((SECONDS + watch_s))
while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
  for task in /proc/"$pid"/task/*; do
    tid=${task##*/}
    comm=$(cat "$task/comm" 2>/dev/null) || continue
    if [[ $tid == "$pid" ]]; then
      want=$main_cpu role=main
    elif [[ $comm == relay-recv ]]; then
      want=$relay_cpu role=relay
    else
      want=$feeds_cpu role=worker
    fi
    have=$(allowed "$task")
    [[ -z $have || $have == "$want" ]] && continue
    if taskset -pc "$want" "$tid" >/dev/null 2>&1; then
      echo "run-pinned: tid $tid ($comm, $role) cpus $have -> $want" >&2
    fi
  done
  sleep 0.2
done

status=0
wait "$pid" || status=$?
# A signal interrupts the first wait; wait again for the real exit status.
while kill -0 "$pid" 2>/dev/null; do
  wait "$pid" || status=$?
done
exit "$status"
