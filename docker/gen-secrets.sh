#!/usr/bin/env bash
# Create the git-ignored Docker secrets of docker/compose.yaml with random values (kept if present).
# The Alipay keys are placeholders until the real PEM files from the Alipay console are copied in.
set -euo pipefail
DIR="$(cd "$(dirname "$0")" && pwd)/secrets"
mkdir -p "$DIR"
umask 077
rand() { python3 -c "import secrets; print(secrets.token_urlsafe($1))"; }
put() {  # put <name> <value>: write once
  if [ -s "$DIR/$1" ]; then echo "== keep $1"; else printf '%s' "$2" >"$DIR/$1"; echo "== made $1"; fi
}
put secret_key "$(rand 48)"
put mysql_root_password "$(rand 24)"
put mysql_password "$(rand 24)"
put database_url "mysql://stsys:$(cat "$DIR/mysql_password")@db:3306/stsys"
put email_url "consolemail://"
touch "$DIR/alipay_app_private_key" "$DIR/alipay_public_key"
[ -s "$DIR/alipay_app_private_key" ] || echo "!! copy the app's RSA private key (PEM) to $DIR/alipay_app_private_key"
[ -s "$DIR/alipay_public_key" ] || echo "!! copy Alipay's RSA public key (PEM) to $DIR/alipay_public_key"
