#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster on a free port (source this file; call pg_throwaway_start,
# then pg_throwaway_stop). Exports SHOUWANG_TEST_PG=postgres://postgres@127.0.0.1:<port>.
# initdb refuses to run as root, so as root the cluster belongs to the `postgres` system user.

pg_bin() {
  local name=$1
  if command -v "$name" >/dev/null 2>&1; then command -v "$name"; return; fi
  ls /usr/lib/postgresql/*/bin/"$name" 2>/dev/null | sort -V | tail -n 1
}

pg_as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_throwaway_start() {
  PG_DIR=$(mktemp -d /tmp/shouwang-pg.XXXXXX)
  [ "$(id -u)" = 0 ] && chown postgres "$PG_DIR"
  PG_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  pg_as_owner "$(pg_bin initdb)" -D "$PG_DIR/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1 \
    || { cat "$PG_DIR/initdb.log"; return 1; }
  # Tests trade durability for speed; PG_DURABLE=1 (benchmarks) keeps the server's defaults.
  local fast="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  [ "${PG_DURABLE:-0}" = 1 ] && fast="-c shared_buffers=512MB"
  pg_as_owner "$(pg_bin pg_ctl)" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w \
    -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c max_connections=300 $fast" \
    start >/dev/null || { cat "$PG_DIR/server.log"; return 1; }
  export SHOUWANG_TEST_PG="postgres://postgres@127.0.0.1:$PG_PORT"
  echo "PostgreSQL throwaway cluster on port $PG_PORT ($PG_DIR)"
}

pg_throwaway_stop() {
  [ -n "${PG_DIR:-}" ] || return 0
  pg_as_owner "$(pg_bin pg_ctl)" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
  unset PG_DIR
}
