# Shared settings of the test services (sourced). Everything lives under var/ in the checkout.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VAR="$ROOT/var"
MARIADB_PORT="${MARIADB_PORT:-3306}"
REDIS_PORT="${REDIS_PORT:-6379}"
ES_PORT="${ES_PORT:-9200}"
ES_VERSION="${ES_VERSION:-8.19.3}"
mkdir -p "$VAR/log"

wait_for() {  # wait_for <seconds> <description> <command...>
  local limit="$1" what="$2"; shift 2
  local i=0
  until "$@" >/dev/null 2>&1; do
    i=$((i + 1))
    if [ "$i" -ge "$limit" ]; then echo "!! $what did not come up in ${limit}s" >&2; return 1; fi
    sleep 1
  done
  echo "== $what is up"
}
