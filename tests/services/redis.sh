#!/usr/bin/env bash
# Start a private Redis (Debian package) on 127.0.0.1:$REDIS_PORT.
set -euo pipefail
source "$(dirname "$0")/common.sh"
command -v redis-server >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; }
if redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then echo "== Redis already running"; exit 0; fi
mkdir -p "$VAR/redis"
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes --dir "$VAR/redis" \
  --save "" --appendonly no --databases 128 --logfile "$VAR/log/redis.log" --pidfile "$VAR/redis.pid"
wait_for 20 Redis redis-cli -p "$REDIS_PORT" ping
