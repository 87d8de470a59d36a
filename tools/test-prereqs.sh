#!/usr/bin/env bash
# What the test suite needs beyond npm packages: Chromium (Debian's package, driven by
# playwright-core), PostgreSQL and Redis answering on loopback. Installs or starts what is
# missing when it can (root with apt), otherwise says exactly what to do.
set -euo pipefail

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }

if [ ! -x /usr/bin/chromium ]; then
  echo "== installing Chromium (Debian package 'chromium')"
  if ! { as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }; then
    echo "Chromium is missing: install Debian's 'chromium' package (/usr/bin/chromium)." >&2
    exit 1
  fi
fi

pg_up() { pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; }
redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; }

if ! pg_up; then
  echo "== starting PostgreSQL"
  as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
fi
if ! redis_up; then
  echo "== starting Redis"
  as_root mkdir -p /var/lib/redis /var/log/redis || true
  as_root redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
fi
for _ in $(seq 1 30); do
  pg_up && redis_up && exit 0
  sleep 1
done
pg_up || echo "PostgreSQL does not answer on 127.0.0.1:5432 (set DATABASE_URL for another server)." >&2
redis_up || echo "Redis does not answer on 127.0.0.1:6379 (set REDIS_URL for another server)." >&2
exit 1
