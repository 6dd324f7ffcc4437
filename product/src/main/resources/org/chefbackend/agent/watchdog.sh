#!/bin/bash
# chef-backend watchdog: fences PostgreSQL when the node agent stops refreshing its deadline.
#
# A leader's agent writes, every loop iteration, the moment (milliseconds of system uptime, a monotonic clock
# shared by every process) by which PostgreSQL must be down unless the agent refreshes it again: a little before
# its leader lease can expire. A frozen or crashed agent cannot fence anything itself; this small process,
# outside the agent's JVM, does it for it (Patroni uses the kernel watchdog for the same reason).
#
# usage: watchdog.sh DEADLINE_FILE PGDATA SENTINEL   (runs until its parent agent replaces or ends it)
set -u
deadline_file=$1 pgdata=$2 sentinel=$3

# No process is started while all is well (it runs on every node, all the time): the clock is read into a
# variable rather than through $(...), and the pause is a read with a timeout on a pipe nobody writes to
# rather than sleep(1).
exec {pause}<> <(:)
now_ms=0
read_uptime() { local up _; read -r up _ < /proc/uptime; now_ms=$(( ${up%.*} * 1000 + 10#${up#*.} * 10 )); }

while :; do
  deadline=0
  [ -r "$deadline_file" ] && read -r deadline < "$deadline_file" 2>/dev/null
  read_uptime
  if [[ "$deadline" =~ ^[0-9]+$ ]] && [ "$deadline" -gt 0 ] && [ "$now_ms" -gt "$deadline" ]; then
    pid=""
    [ -r "$pgdata/postmaster.pid" ] && read -r pid < "$pgdata/postmaster.pid"
    : > "$sentinel"
    if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
      kill -QUIT "$pid"   # PostgreSQL's immediate shutdown
      echo "$(date -u +%FT%TZ) watchdog: agent missed its deadline; stopped PostgreSQL (pid $pid)"
    fi
    echo 0 > "$deadline_file"
  fi
  read -r -t 0.2 -u "$pause" _
done
