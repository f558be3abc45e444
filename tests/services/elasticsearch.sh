#!/usr/bin/env bash
# Start a private Elasticsearch $ES_VERSION (major 8) on 127.0.0.1:$ES_PORT for the tests.
#
# The distribution is the official integ-test zip from Maven Central
# (org.elasticsearch.distribution.integ-test-zip:elasticsearch:$ES_VERSION:zip), cached under var/dist/.
# It ships without a JDK and with a minimal module set (no analysis-common: the `standard`
# analyzer is what the index uses; apps/work/search.py picks IK or `cjk` when the server has them).
# ES refuses to run as root, so it runs as the unprivileged user `stsys-es`. Idempotent: an
# Elasticsearch already answering on the port → exit 0.
set -euo pipefail
source "$(dirname "$0")/common.sh"

ES_USER="${ES_USER:-stsys-es}"
ES_ROOT="$VAR/elasticsearch"
ES_HOME="$ES_ROOT/elasticsearch-$ES_VERSION"
ES_ZIP="$VAR/dist/elasticsearch-$ES_VERSION.zip"
ES_HEAP="${ES_HEAP:-512m}"
URL="http://127.0.0.1:$ES_PORT"

healthy() { curl -fsS "$URL/_cluster/health?wait_for_status=yellow&timeout=1s" >/dev/null 2>&1; }

if curl -fsS "$URL/_cluster/health" >/dev/null 2>&1; then echo "== Elasticsearch already running"; exit 0; fi

# Java 17 (ES 8 runs on 17+); ES_JAVA_HOME wins over the bundled-JDK lookup.
if [ -z "${ES_JAVA_HOME:-}" ]; then
  for j in /usr/lib/jvm/java-17-openjdk-amd64 /usr/lib/jvm/java-17-openjdk* /usr/lib/jvm/temurin-25-jdk-amd64; do
    if [ -x "$j/bin/java" ]; then ES_JAVA_HOME="$j"; break; fi
  done
fi
[ -n "${ES_JAVA_HOME:-}" ] || { echo "!! no JDK 17+ found under /usr/lib/jvm" >&2; exit 1; }
export ES_JAVA_HOME
command -v unzip >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq unzip >/dev/null; }

if [ ! -f "$ES_ZIP" ]; then
  command -v mvn >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq maven >/dev/null; }
  echo "== fetching Elasticsearch $ES_VERSION from Maven Central"
  mkdir -p "$VAR/dist"
  mvn -q -B dependency:copy \
    "-Dartifact=org.elasticsearch.distribution.integ-test-zip:elasticsearch:$ES_VERSION:zip" \
    "-DoutputDirectory=$VAR/dist" \
    || { echo "!! could not fetch org.elasticsearch.distribution.integ-test-zip:elasticsearch:$ES_VERSION:zip" >&2; exit 1; }
fi

id "$ES_USER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$ES_USER"

if [ ! -x "$ES_HOME/bin/elasticsearch" ]; then
  mkdir -p "$ES_ROOT"
  unzip -q -o "$ES_ZIP" -d "$ES_ROOT"
fi
mkdir -p "$ES_ROOT/data" "$ES_ROOT/logs" "$ES_HOME/config/jvm.options.d"
cat >"$ES_HOME/config/elasticsearch.yml" <<YML
cluster.name: stsys-test
node.name: stsys-es-1
discovery.type: single-node
network.host: 127.0.0.1
http.port: $ES_PORT
transport.port: $((ES_PORT + 100))
path.data: $ES_ROOT/data
path.logs: $ES_ROOT/logs
xpack.security.enabled: false
cluster.routing.allocation.disk.threshold_enabled: true
cluster.routing.allocation.disk.watermark.low: 97%
cluster.routing.allocation.disk.watermark.high: 98%
cluster.routing.allocation.disk.watermark.flood_stage: 99%
action.destructive_requires_name: false
YML
printf -- '-Xms%s\n-Xmx%s\n' "$ES_HEAP" "$ES_HEAP" >"$ES_HOME/config/jvm.options.d/heap.options"
# The checkout may sit under root-owned folders: the ES user only needs to traverse them.
d="$ES_ROOT"; while [ "$d" != "/" ]; do chmod o+x "$d" 2>/dev/null || true; d="$(dirname "$d")"; done
chown -R "$ES_USER" "$ES_ROOT"

echo "== starting Elasticsearch $ES_VERSION (java: $ES_JAVA_HOME, heap $ES_HEAP)"
runuser -u "$ES_USER" -- env -u JAVA_HOME ES_JAVA_HOME="$ES_JAVA_HOME" \
  ES_PATH_CONF="$ES_HOME/config" \
  "$ES_HOME/bin/elasticsearch" -d -p "$ES_ROOT/elasticsearch.pid" \
  >"$VAR/log/elasticsearch-start.log" 2>&1 || {
  echo "!! Elasticsearch failed to start; see $VAR/log/elasticsearch-start.log and $ES_ROOT/logs" >&2
  tail -n 30 "$VAR/log/elasticsearch-start.log" >&2 || true
  exit 1
}
wait_for "${ES_WAIT:-120}" Elasticsearch healthy
