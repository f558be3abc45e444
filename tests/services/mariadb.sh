#!/usr/bin/env bash
# Start a private MariaDB (Debian package) on 127.0.0.1:$MARIADB_PORT with user stsys/stsys.
set -euo pipefail
source "$(dirname "$0")/common.sh"
command -v mariadbd >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mariadb-server >/dev/null; }
DATA="$VAR/mariadb"
RUN="$VAR/mariadb-run"; mkdir -p "$RUN"; chown mysql:mysql "$RUN"
SOCK="$RUN/mariadb.sock"
if mariadb-admin --socket="$SOCK" -uroot ping >/dev/null 2>&1; then echo "== MariaDB already running"; exit 0; fi
if [ ! -d "$DATA/mysql" ]; then
  mkdir -p "$DATA"; chown -R mysql:mysql "$DATA"
  mariadb-install-db --user=mysql --datadir="$DATA" --auth-root-authentication-method=socket >"$VAR/log/mariadb-install.log" 2>&1
fi
chown -R mysql:mysql "$DATA"
nohup mariadbd --user=mysql --datadir="$DATA" --socket="$SOCK" --port="$MARIADB_PORT" \
  --bind-address=127.0.0.1 --pid-file="$RUN/mariadb.pid" --character-set-server=utf8mb4 \
  --collation-server=utf8mb4_unicode_ci --innodb-buffer-pool-size=256M --max-connections=500 \
  --innodb-flush-log-at-trx-commit=2 --skip-log-bin --log-error="$RUN/mariadb.err" >/dev/null 2>&1 &
wait_for 60 MariaDB mariadb-admin --socket="$SOCK" -uroot ping
mariadb --socket="$SOCK" -uroot <<'SQL'
CREATE USER IF NOT EXISTS 'stsys'@'127.0.0.1' IDENTIFIED BY 'stsys';
CREATE USER IF NOT EXISTS 'stsys'@'localhost' IDENTIFIED BY 'stsys';
GRANT ALL PRIVILEGES ON *.* TO 'stsys'@'127.0.0.1' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON *.* TO 'stsys'@'localhost' WITH GRANT OPTION;
CREATE DATABASE IF NOT EXISTS stsys CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
FLUSH PRIVILEGES;
SQL
