#!/usr/bin/env bash
# A private MariaDB primary + replica pair for the read-replica router test (tests/test_replica_router.py),
# separate from the main test database (tests/services/mariadb.sh, port 3306, binlog off):
#   primary 127.0.0.1:$PAIR_PRIMARY_PORT (3308): binlog on (ROW), server_id 1
#   replica 127.0.0.1:$PAIR_REPLICA_PORT (3309): server_id 2, read_only, GTID replication from the primary
# Users (created on the primary and replicated): stsys/stsys (all privileges) and stsys_ro/stsys_ro
# (SELECT only: what an app's replica alias should use, so a misrouted write fails loudly).
# Data under var/mariadb-pair/. `bash tests/services/mariadb_replica.sh stop` stops both.
set -euo pipefail
source "$(dirname "$0")/common.sh"
PRIMARY_PORT="${PAIR_PRIMARY_PORT:-3308}"
REPLICA_PORT="${PAIR_REPLICA_PORT:-3309}"
BASE="$VAR/mariadb-pair"
RUN="$BASE/run"

sock() { echo "$RUN/$1.sock"; }
ping_node() { mariadb-admin --socket="$(sock "$1")" -uroot ping >/dev/null 2>&1; }
sql() { local node="$1"; shift; mariadb --socket="$(sock "$node")" -uroot "$@"; }

stop_node() {
  local node="$1" pidfile="$RUN/$1.pid"
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    mariadb-admin --socket="$(sock "$node")" -uroot shutdown 2>/dev/null || kill "$(cat "$pidfile")"
    echo "== stopped MariaDB $node"
  fi
}

if [ "${1:-start}" = "stop" ]; then
  stop_node replica
  stop_node primary
  exit 0
fi

command -v mariadbd >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mariadb-server >/dev/null; }
mkdir -p "$RUN"; chown mysql:mysql "$BASE" "$RUN"

start_node() {  # start_node <name> <port> <server id> <extra mariadbd args...>
  local node="$1" port="$2" id="$3"; shift 3
  local data="$BASE/$node"
  if ping_node "$node"; then echo "== MariaDB $node already running"; return 0; fi
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "!! port $port is taken by another process (not this tree's $node): stop it, or set" \
      "PAIR_PRIMARY_PORT / PAIR_REPLICA_PORT" >&2
    exit 1
  fi
  if [ ! -d "$data/mysql" ]; then
    mkdir -p "$data"; chown -R mysql:mysql "$data"
    mariadb-install-db --user=mysql --datadir="$data" --auth-root-authentication-method=socket \
      >"$VAR/log/mariadb-pair-$node-install.log" 2>&1
  fi
  chown -R mysql:mysql "$data"
  nohup mariadbd --no-defaults --user=mysql --datadir="$data" --socket="$(sock "$node")" --port="$port" \
    --bind-address=127.0.0.1 --pid-file="$RUN/$node.pid" --server-id="$id" \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
    --innodb-buffer-pool-size=64M --max-connections=100 --innodb-flush-log-at-trx-commit=2 \
    --skip-name-resolve --log-error="$VAR/log/mariadb-pair-$node.err" "$@" >/dev/null 2>&1 &
  wait_for 60 "MariaDB $node (port $port)" mariadb-admin --socket="$(sock "$node")" -uroot ping
}

start_node primary "$PRIMARY_PORT" 1 --log-bin=primary-bin --binlog-format=ROW
start_node replica "$REPLICA_PORT" 2 --relay-log=replica-relay-bin --read-only

# The replication account stays on the primary (not written to the binlog).
sql primary <<'SQL'
SET SESSION sql_log_bin = 0;
CREATE USER IF NOT EXISTS 'repl'@'127.0.0.1' IDENTIFIED BY 'repl';
GRANT REPLICATION SLAVE ON *.* TO 'repl'@'127.0.0.1';
SET SESSION sql_log_bin = 1;
SQL

# Replica: follow the primary by GTID from the start of its binlog (idempotent).
if ! sql replica -e "SHOW SLAVE STATUS\G" | grep -q "Master_Port: $PRIMARY_PORT"; then
  sql replica <<SQL
STOP SLAVE;
RESET SLAVE ALL;
SET GLOBAL gtid_slave_pos = '';
CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=$PRIMARY_PORT, MASTER_USER='repl',
  MASTER_PASSWORD='repl', MASTER_CONNECT_RETRY=1, MASTER_USE_GTID=slave_pos;
START SLAVE;
SQL
else
  sql replica -e "START SLAVE" 2>/dev/null || true
fi

# Application users and database: created on the primary, delivered to the replica by replication.
sql primary <<'SQL'
CREATE USER IF NOT EXISTS 'stsys'@'127.0.0.1' IDENTIFIED BY 'stsys';
GRANT ALL PRIVILEGES ON *.* TO 'stsys'@'127.0.0.1';
CREATE USER IF NOT EXISTS 'stsys_ro'@'127.0.0.1' IDENTIFIED BY 'stsys_ro';
GRANT SELECT ON *.* TO 'stsys_ro'@'127.0.0.1';
CREATE DATABASE IF NOT EXISTS stsys CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
SQL

replica_ready() {
  local status
  status="$(sql replica -e "SHOW SLAVE STATUS\G")"
  grep -q "Slave_IO_Running: Yes" <<<"$status" && grep -q "Slave_SQL_Running: Yes" <<<"$status" \
    && [ "$(sql replica -N -e "SELECT COUNT(*) FROM mysql.user WHERE user='stsys_ro'")" = "1" ]
}
if ! wait_for 60 "MariaDB replica following the primary" replica_ready; then
  sql replica -e "SHOW SLAVE STATUS\G" >&2 || true
  exit 1
fi
