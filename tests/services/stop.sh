#!/usr/bin/env bash
# Stop the test services started by tests/services/*.sh (Elasticsearch, Redis, MariaDB, and the
# MariaDB primary + replica pair of the replica-router test).
# Only processes recorded by those scripts (pid files / sockets under var/) are touched.
set -uo pipefail
source "$(dirname "$0")/common.sh"

stop_pid() {  # stop_pid <name> <pidfile> <seconds>
  local name="$1" pidfile="$2" limit="$3" pid i
  [ -f "$pidfile" ] || { echo "== $name: not started by us"; return 0; }
  pid="$(cat "$pidfile")"
  if ! kill -0 "$pid" 2>/dev/null; then echo "== $name: not running"; rm -f "$pidfile"; return 0; fi
  kill -TERM "$pid"
  for ((i = 0; i < limit; i++)); do
    kill -0 "$pid" 2>/dev/null || { echo "== $name stopped"; rm -f "$pidfile"; return 0; }
    sleep 1
  done
  echo "!! $name (pid $pid) ignored SIGTERM for ${limit}s: killing" >&2
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$pidfile"
}

stop_pid Elasticsearch "$VAR/elasticsearch/elasticsearch.pid" 60

if [ -f "$VAR/redis.pid" ] && redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then
  redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
  echo "== Redis stopped"
else
  echo "== Redis: not running"
fi
rm -f "$VAR/redis.pid"

bash "$(dirname "$0")/mariadb_replica.sh" stop

SOCK="$VAR/mariadb-run/mariadb.sock"
if mariadb-admin --socket="$SOCK" -uroot ping >/dev/null 2>&1; then
  mariadb-admin --socket="$SOCK" -uroot shutdown && echo "== MariaDB stopped"
else
  echo "== MariaDB: not running"
fi
exit 0
