#!/bin/sh
# Container entry point of the stsys image: turn `<NAME>_FILE` (a Docker secret path) into `<NAME>`
# for the settings that django-environ reads as plain values, then run the command.
# A variable that is already set wins over its `_FILE` twin.
set -eu
for name in SECRET_KEY DATABASE_URL DATABASE_REPLICA_URLS EMAIL_URL CELERY_BROKER_URL \
            CELERY_RESULT_BACKEND REDIS_URL ELASTICSEARCH_URL; do
  eval "file=\${${name}_FILE:-}"
  eval "value=\${${name}:-}"
  if [ -n "$file" ] && [ -z "$value" ]; then
    if [ ! -r "$file" ]; then echo "entrypoint: ${name}_FILE=$file is not readable" >&2; exit 1; fi
    export "$name=$(cat "$file")"
  fi
  unset "${name}_FILE"
done
exec "$@"
