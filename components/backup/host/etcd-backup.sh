#!/bin/bash
# etcd-backup: encrypted, off-host backups of this etcd cluster to an S3-compatible store (etcd-pulumi).
#
#   etcd-backup delta     (etcd-backup.service, every few seconds) on the leader only: the events since
#                         the store's HEAD, from a watch on the local member, as one object; the first
#                         run of a cluster, or one whose history is compacted away, uploads a full base
#   etcd-backup full      (etcd-backup-full.service, hourly by default) on the leader only: a snapshot
#                         as one object, then retention (garbage collection) over the store
#   etcd-backup gc        retention alone (ETCD_PULUMI_BACKUP_NOW=<ISO time> simulates the clock)
#   etcd-backup fetch-restore ID TARGET_REVISION EXPECTED_KEYS OBJECT...
#                         (pulumi up, restore from the store) downloads OBJECTs (a full base, then deltas),
#                         checks each one's authentication tag, decrypts it, applies the deltas on a
#                         throwaway local etcd and leaves one verified snapshot for the restore
#
# Objects, under <prefix>/cluster-<cluster id>/ (names carry what a restore needs, and are authenticated):
#   full/<revision>-<UTC time>-k<keys>.db.enc                 (a snapshot; not compressed: restores go faster)
#   delta/<from revision>-<to revision>-<UTC time>-k<keys>.events.gz.enc   (events in (from, to])
#   HEAD                                       the last revision the deltas cover (JSON + tag)
# Each object is AES-256-CTR (deltas gzip first) (openssl enc, key from enc.pass with a random salt per object),
# then a 32-byte HMAC-SHA256 tag over the object's name and the ciphertext (encrypt-then-MAC): the store
# only ever sees ciphertext, and a changed, swapped or renamed object fails its check.
#
# Settings come from the env file the component writes (ETCD_BACKUP_ENV, default below); keys and the
# store's credentials are root-only files named there, never command-line arguments.
set -euo pipefail
umask 077

ENV_FILE="${ETCD_BACKUP_ENV:-/etc/etcd-pulumi/backup/backup.env}"
# shellcheck source=/dev/null
source "$ENV_FILE"
# shellcheck source=s3.sh
source "$BACKUP_LIB_DIR/s3.sh"
# shellcheck source=crypto.sh
source "$BACKUP_LIB_DIR/crypto.sh"

STEP="${1:-}"
fail() { echo "etcd-backup on $BACKUP_MEMBER ($STEP): $*" >&2; exit 1; }
log() { echo "etcd-backup on $BACKUP_MEMBER ($STEP): $*"; }

ectl() {
  "$ETCDCTL" --cacert="$ETCD_CA_FILE" --cert="$ETCD_CERT_FILE" --key="$ETCD_KEY_FILE" \
    --endpoints="${ECTL_ENDPOINT:-$ETCD_ENDPOINT}" --dial-timeout=5s --command-timeout="${ECTL_TIMEOUT:-30s}" "$@"
}

pad() { printf '%020d' "$1"; }
utc_stamp() { date -u +%Y%m%dT%H%M%SZ; }
json_num() { grep -o "\"$1\":[0-9]*" | head -n 1 | cut -d: -f2; }
backup_keys_load || fail "backup keys missing in $BACKUP_KEY_DIR (run pulumi up)"

# ---------------------------------------------------------------------------------------------------
# The local member and the store's HEAD
# ---------------------------------------------------------------------------------------------------
# Sets CLUSTER (decimal cluster id), REVISION, IS_LEADER (yes/no), LEADER_ID.
read_status() {
  local out member
  out=$(ectl endpoint status -w json 2>&1) || fail "the local member does not answer: $(printf '%s' "$out" | tail -n 1)"
  CLUSTER=$(printf '%s' "$out" | json_num cluster_id)
  REVISION=$(printf '%s' "$out" | json_num revision)
  member=$(printf '%s' "$out" | json_num member_id)
  LEADER_ID=$(printf '%s' "$out" | json_num leader)
  if [ -z "$CLUSTER" ] || [ -z "$REVISION" ] || [ -z "$member" ]; then fail "unexpected endpoint status: $out"; fi
  IS_LEADER=no
  if [ -n "$LEADER_ID" ] && [ "$LEADER_ID" = "$member" ]; then IS_LEADER=yes; fi
  # Keys are relative to the store's prefix (s3.sh adds it), and so are the names objects are authenticated with.
  CLUSTER_DIR="cluster-$CLUSTER"
}

# Prints the revision the store's HEAD says the deltas cover (nothing when this cluster has no HEAD).
read_head() {
  local f="$WORK/HEAD" rc=0 body mac
  s3_get "$CLUSTER_DIR/HEAD" "$f" 2>"$WORK/head.err" || rc=$?
  # 3: no such object (a cluster without backups yet).
  if [ "$rc" = 3 ]; then return 0; fi
  [ "$rc" = 0 ] || fail "reading $CLUSTER_DIR/HEAD from the store failed: $(tail -n 1 "$WORK/head.err")"
  body=$(head -n 1 "$f")
  mac=$(sed -n 2p "$f")
  printf '%s\n' "$body" > "$WORK/HEAD.body"
  [ "$(tag "$CLUSTER_DIR/HEAD" "$WORK/HEAD.body")" = "$mac" ] || fail "$CLUSTER_DIR/HEAD does not authenticate with this cluster's backup key"
  printf '%s' "$body" | json_num revision
}

write_head() { # REVISION OBJECT
  printf '{"cluster":"%s","revision":%s,"object":"%s","time":"%s","member":"%s"}\n' "$CLUSTER" "$1" "$2" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$BACKUP_MEMBER" > "$WORK/HEAD.new"
  local t
  t=$(tag "$CLUSTER_DIR/HEAD" "$WORK/HEAD.new")
  printf '%s\n' "$t" >> "$WORK/HEAD.new"
  s3_put "$WORK/HEAD.new" "$CLUSTER_DIR/HEAD" || fail "writing $CLUSTER_DIR/HEAD failed"
}

# upload FILE NAME: put the object, then check the store holds exactly its size (the put itself sends
# the payload's SHA-256, which the store verifies).
upload() {
  local size stored
  size=$(stat -c %s "$1")
  s3_put "$1" "$2" || fail "upload of $2 failed"
  stored=$(s3_head "$2") || fail "the store does not show $2 after its upload"
  [ "$stored" = "$size" ] || fail "$2: the store holds $stored bytes, $size were uploaded"
}

# ---------------------------------------------------------------------------------------------------
# What monitoring reads: last-backup.json and a Prometheus text file
# ---------------------------------------------------------------------------------------------------
record() { # KIND RESULT [REVISION OBJECT SIZE SECONDS]
  local kind="$1" result="$2" now
  now=$(date -u +%s)
  install -d -m 0755 "$(dirname "$BACKUP_STATE_FILE")" "$(dirname "$BACKUP_METRICS_FILE")"
  local state="$BACKUP_WORK_DIR/state"
  install -d -m 0700 "$state"
  printf '%s\n' "$now" > "$state/last-run"
  if [ "$result" = ok ]; then
    printf '%s\n' "$now" > "$state/last-success"
    printf '%s\n' "$3" > "$state/last-revision"
    if [ -n "${4:-}" ]; then
      printf '%s %s %s %s\n' "$kind" "$4" "$5" "$6" > "$state/last-upload"
      printf '%s %s %s\n' "$now" "$5" "$6" > "$state/last-$kind"
    fi
    printf '0\n' > "$state/consecutive-failures"
  elif [ "$result" = failed ]; then
    printf '%s\n' "$now" > "$state/last-failure"
    printf '%s\n' $(( $(cat "$state/consecutive-failures" 2>/dev/null || echo 0) + 1 )) > "$state/consecutive-failures"
    printf '%s\n' $(( $(cat "$state/failures-total" 2>/dev/null || echo 0) + 1 )) > "$state/failures-total"
  fi
  printf '%s\n' "$IS_LEADER" > "$state/leader"
  publish
}

publish() {
  local state="$BACKUP_WORK_DIR/state" up kind object size seconds success revision t
  success=$(cat "$state/last-success" 2>/dev/null || echo 0)
  revision=$(cat "$state/last-revision" 2>/dev/null || echo 0)
  kind=none; object=""; size=0; seconds=0
  if [ -f "$state/last-upload" ]; then read -r kind object size seconds < "$state/last-upload"; fi
  if [ "$success" != 0 ]; then
    t=$(date -u -d "@$success" +%Y-%m-%dT%H:%M:%SZ)
    printf '{"time":"%s","revision":%s,"size":%s,"object":"%s","kind":"%s","member":"%s","store":"%s"}\n' \
      "$t" "$revision" "$size" "$object" "$kind" "$BACKUP_MEMBER" "$S3_STORE" > "$BACKUP_STATE_FILE.tmp"
    chmod 0644 "$BACKUP_STATE_FILE.tmp"
    mv -f "$BACKUP_STATE_FILE.tmp" "$BACKUP_STATE_FILE"
  fi
  up=0; [ "$(cat "$state/leader" 2>/dev/null || echo no)" = yes ] && up=1
  {
    echo "# HELP etcd_pulumi_backup_last_success_timestamp_seconds When this member last confirmed the store holds the cluster up to etcd_pulumi_backup_last_revision."
    echo "# TYPE etcd_pulumi_backup_last_success_timestamp_seconds gauge"
    echo "etcd_pulumi_backup_last_success_timestamp_seconds $success"
    echo "# HELP etcd_pulumi_backup_last_revision The revision the store holds, as of the last success on this member."
    echo "# TYPE etcd_pulumi_backup_last_revision gauge"
    echo "etcd_pulumi_backup_last_revision $revision"
    echo "# HELP etcd_pulumi_backup_last_failure_timestamp_seconds When a backup run last failed on this member (0: never)."
    echo "# TYPE etcd_pulumi_backup_last_failure_timestamp_seconds gauge"
    echo "etcd_pulumi_backup_last_failure_timestamp_seconds $(cat "$state/last-failure" 2>/dev/null || echo 0)"
    echo "# HELP etcd_pulumi_backup_consecutive_failures Backup runs that failed on this member since its last success."
    echo "# TYPE etcd_pulumi_backup_consecutive_failures gauge"
    echo "etcd_pulumi_backup_consecutive_failures $(cat "$state/consecutive-failures" 2>/dev/null || echo 0)"
    echo "# HELP etcd_pulumi_backup_failures_total Backup runs that failed on this member."
    echo "# TYPE etcd_pulumi_backup_failures_total counter"
    echo "etcd_pulumi_backup_failures_total $(cat "$state/failures-total" 2>/dev/null || echo 0)"
    echo "# HELP etcd_pulumi_backup_uploader 1 when this member led the cluster at its last run (the leader uploads)."
    echo "# TYPE etcd_pulumi_backup_uploader gauge"
    echo "etcd_pulumi_backup_uploader $up"
    echo "# HELP etcd_pulumi_backup_upload_bytes Size of this member's last upload of each kind."
    echo "# TYPE etcd_pulumi_backup_upload_bytes gauge"
    echo "# HELP etcd_pulumi_backup_upload_duration_seconds How long this member's last backup of each kind took."
    echo "# TYPE etcd_pulumi_backup_upload_duration_seconds gauge"
    echo "# HELP etcd_pulumi_backup_upload_timestamp_seconds When this member last uploaded a backup of each kind."
    echo "# TYPE etcd_pulumi_backup_upload_timestamp_seconds gauge"
    for kind in full delta; do
      if [ -f "$state/last-$kind" ] && read -r t size seconds < "$state/last-$kind"; then
        echo "etcd_pulumi_backup_upload_bytes{kind=\"$kind\"} $size"
        echo "etcd_pulumi_backup_upload_duration_seconds{kind=\"$kind\"} $seconds"
        echo "etcd_pulumi_backup_upload_timestamp_seconds{kind=\"$kind\"} $t"
      fi
    done
  } > "$BACKUP_METRICS_FILE.tmp"
  chmod 0644 "$BACKUP_METRICS_FILE.tmp"
  mv -f "$BACKUP_METRICS_FILE.tmp" "$BACKUP_METRICS_FILE"
}

# A run that fails is recorded as failed (the unit fails too, with the message on stderr).
on_exit() {
  local rc=$?
  if [ "$rc" != 0 ] && [ "${RECORD_FAILURES:-no}" = yes ]; then record "$STEP" failed || true; fi
  rm -rf "$WORK"
  exit "$rc"
}

# ---------------------------------------------------------------------------------------------------
# full: a snapshot as one object
# ---------------------------------------------------------------------------------------------------
upload_full() { # [set-head]
  local t0=$SECONDS snap="$WORK/full.db" status rev count name size
  ECTL_TIMEOUT=600s ectl snapshot save "$snap" >/dev/null 2>"$WORK/save.err" || fail "snapshot save failed: $(tail -n 2 "$WORK/save.err" | paste -sd' ' -)"
  status=$("$ETCDUTL" snapshot status "$snap" -w json 2>&1) || fail "the snapshot does not verify: $status"
  rev=$(printf '%s' "$status" | json_num revision)
  [ -n "$rev" ] || fail "snapshot status without a revision: $status"
  count=$(ectl get "" --prefix --keys-only --limit=1 --rev="$rev" -w json | json_num count)
  name="$CLUSTER_DIR/full/$(pad "$rev")-$(utc_stamp)-k${count:-0}.db.enc"
  seal "$name" "$snap" "$WORK/full.enc"
  rm -f "$snap"
  size=$(stat -c %s "$WORK/full.enc")
  upload "$WORK/full.enc" "$name"
  if [ "${1:-}" = set-head ]; then write_head "$rev" "$name"; fi
  record full ok "$rev" "$name" "$size" $((SECONDS - t0))
  log "full base $name uploaded and verified ($size bytes, revision $rev, ${count:-0} keys, $((SECONDS - t0)) s)"
}

run_full() {
  read_status
  if [ "$IS_LEADER" != yes ]; then record full skipped; log "not the leader (leader ${LEADER_ID:-none}): the leader uploads"; return 0; fi
  local head
  head=$(read_head)
  # A cluster without HEAD starts its delta chain at this base.
  if [ -z "$head" ]; then upload_full set-head; else upload_full; fi
  run_gc
}

# ---------------------------------------------------------------------------------------------------
# delta: the events since HEAD
# ---------------------------------------------------------------------------------------------------
# events FROM TARGET OUT: the watch's responses (one JSON line each) from revision FROM on, until a complete
# line holds an event at or after TARGET. Returns 3 when etcd has compacted FROM away. (Polled from a
# file: awk implementations differ in how they buffer a pipe.)
events() {
  local from="$1" target="$2" out="$3" pid last deadline=$((SECONDS + ${BACKUP_WATCH_TIMEOUT:-120}))
  ectl watch --prefix "" --rev="$from" -w json > "$out" 2> "$WORK/watch.err" &
  pid=$!
  while :; do
    if [ -s "$out" ] && [ "$(tail -c 1 "$out" | od -An -c | tr -d ' ')" = '\n' ]; then
      last=$(tail -n 1 "$out" | grep -o '"mod_revision":[0-9]*' | tail -n 1 | cut -d: -f2)
      if [ -n "$last" ] && [ "$last" -ge "$target" ]; then break; fi
      if grep -q '"CompactRevision":[1-9]' "$out"; then break; fi
    fi
    kill -0 "$pid" 2>/dev/null || break
    [ "$SECONDS" -lt "$deadline" ] || break
    sleep 0.1
  done
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  if grep -q '"CompactRevision":[1-9]' "$out" || grep -q 'compacted' "$WORK/watch.err"; then return 3; fi
  # A line cut short by the kill is dropped; what is left must reach TARGET.
  if [ -s "$out" ] && [ "$(tail -c 1 "$out" | od -An -c | tr -d ' ')" != '\n' ]; then sed -i '$ d' "$out"; fi
  last=$(grep -o '"mod_revision":[0-9]*' "$out" | cut -d: -f2 | sort -n | tail -n 1)
  if [ -z "$last" ] || [ "$last" -lt "$target" ]; then
    fail "the watch from revision $from ended before revision $target (got ${last:-nothing}): $(grep -v '^{' "$WORK/watch.err" | tail -n 2 | paste -sd' ' -)"
  fi
}

run_delta() {
  read_status
  if [ "$IS_LEADER" != yes ]; then record delta skipped; log "not the leader (leader ${LEADER_ID:-none}): the leader uploads"; return 0; fi
  local t0=$SECONDS head to count name size rc=0
  head=$(read_head)
  if [ -z "$head" ]; then
    log "no backup of cluster $CLUSTER in the store yet: a full base first"
    upload_full set-head
    return 0
  fi
  if [ "$REVISION" -le "$head" ]; then record delta ok "$head"; log "the store holds revision $head: nothing new"; return 0; fi
  events $((head + 1)) "$REVISION" "$WORK/events" || rc=$?
  if [ "$rc" = 3 ]; then
    log "etcd compacted revision $((head + 1)) away (no backup for a while): a new full base restarts the chain"
    upload_full set-head
    return 0
  fi
  to=$(grep -o '"mod_revision":[0-9]*' "$WORK/events" | cut -d: -f2 | sort -n | tail -n 1)
  count=$(ectl get "" --prefix --keys-only --limit=1 --rev="$to" -w json | json_num count)
  name="$CLUSTER_DIR/delta/$(pad "$head")-$(pad "$to")-$(utc_stamp)-k${count:-0}.events.gz.enc"
  seal "$name" "$WORK/events" "$WORK/delta.enc"
  size=$(stat -c %s "$WORK/delta.enc")
  upload "$WORK/delta.enc" "$name"
  write_head "$to" "$name"
  record delta ok "$to" "$name" "$size" $((SECONDS - t0))
  log "delta $name uploaded and verified ($size bytes, revisions $((head + 1))-$to)"
}

# ---------------------------------------------------------------------------------------------------
# gc: retention over every cluster's objects under the prefix (the policy is in retention.awk)
# ---------------------------------------------------------------------------------------------------
run_gc() {
  local now listing doomed n=0 key
  if [ -n "${ETCD_PULUMI_BACKUP_NOW:-}" ]; then now=$(date -u -d "$ETCD_PULUMI_BACKUP_NOW" +%s); else now=$(date -u +%s); fi
  listing="$WORK/listing"
  s3_list "cluster-" > "$listing" || fail "listing the store failed"
  doomed=$(awk -v now="$now" -v all_within="$RETENTION_ALL_WITHIN_SECONDS" -v hourly="$RETENTION_HOURLY" \
    -v daily="$RETENTION_DAILY" -v weekly="$RETENTION_WEEKLY" -f "$BACKUP_LIB_DIR/retention.awk" "$listing")
  while IFS= read -r key; do
    [ -n "$key" ] || continue
    s3_delete "$key" || fail "deleting $key failed"
    n=$((n + 1))
  done <<< "$doomed"
  log "retention: $(wc -l < "$listing") objects, $n deleted"
}

# ---------------------------------------------------------------------------------------------------
# fetch-restore: one verified snapshot from a full base and the deltas after it
# ---------------------------------------------------------------------------------------------------
run_fetch_restore() {
  local id="$1" target="$2" expected="$3"; shift 3
  local out="$BACKUP_RESTORE_DIR/restore-$id.db" obj i=0 keys t0=$SECONDS
  PHASES=""; PHASE_T=$(date +%s%N)
  install -d -m 0700 "$BACKUP_RESTORE_DIR"
  # The snapshot only ever appears complete (renamed into place last), so one that is here is done.
  if [ -f "$out" ]; then log "restore $id: the snapshot is already here"; return 0; fi
  rm -f "$out.part" "$out.raw"
  : > "$WORK/events"
  # Every byte is authenticated by the object's own tag: the store's checksum would only read it once more.
  export S3_CHECK_DOWNLOAD=false
  for obj in "$@"; do
    i=$((i + 1))
    if [ "$i" = 1 ]; then
      case "$obj" in */full/*) ;; *) fail "the first object must be a full base, got $obj" ;; esac
      fetch_base "$obj" "$WORK/base.db"
      phase "base"
    else
      case "$obj" in */delta/*) ;; *) fail "expected a delta after the base, got $obj" ;; esac
      s3_get "$obj" "$WORK/object" || fail "downloading $obj failed"
      unseal "$obj" "$WORK/object" "$WORK/delta"
      cat "$WORK/delta" >> "$WORK/events"
      rm -f "$WORK/object"
      phase "delta$i"
    fi
  done
  [ "$i" -gt 0 ] || fail "no full base named"
  if [ "$#" -eq 1 ]; then
    # A full base alone is a snapshot as etcdctl saved it (etcdutl checks its hash at restore).
    mv -f "$WORK/base.db" "$out.part"
  else
    apply_deltas "$WORK/base.db" "$target"
    keys=$(ECTL_ENDPOINT="$ASSEMBLY_ENDPOINT" ectl get "" --prefix --keys-only --limit=1 -w json | json_num count)
    [ "${keys:-0}" = "$expected" ] || fail "the assembled data holds ${keys:-0} keys, the backup at revision $target held $expected"
    phase "count"
    stop_assembly
    phase "stop"
    # The assembly's own database is the result (no snapshot save: one pass less); it has no snapshot
    # hash, so the restore skips that check (.raw), as for a db taken out of a stopped member.
    mv -f "$WORK/assembly/member/snap/db" "$out.part"
    : > "$out.raw"
  fi
  mv -f "$out.part" "$out"
  log "restore $id: snapshot ready ($(stat -c %s "$out") bytes, backup revision $target, $expected keys, $((SECONDS - t0)) s;$PHASES)"
}

# phase NAME: the time since the last phase, added to PHASES (the restore's log line says where it went).
phase() {
  local now; now=$(date +%s%N)
  PHASES+=" $1 $(( (now - PHASE_T) / 1000000 )) ms"; PHASE_T=$now
}

# fetch_base OBJECT OUT: a full base downloaded, authenticated and decrypted in one pass (the store's
# bytes go straight into openssl; the tag, its last 32 bytes, is fetched first).
fetch_base() {
  local size
  size=$(s3_head "$1") || fail "the size of $1: the store did not say"
  [ "$size" -gt 48 ] || fail "$1: $size bytes is too short to be a backup object"
  s3_stream "$1" "$((size - 32))" "$((size - 1))" > "$WORK/tag" || fail "downloading the tag of $1 failed"
  rm -f "$WORK/download.failed"
  { s3_stream "$1" 0 "$((size - 33))" || : > "$WORK/download.failed"; } | unseal_stream "$1" "$WORK/tag" "$2" "$WORK/download.failed"
}

ASSEMBLY_PID=""
assembly_healthy() {
  curl -sS --max-time 5 --cacert "$ETCD_CA_FILE" --cert "$ETCD_CERT_FILE" --key "$ETCD_KEY_FILE" "$ASSEMBLY_ENDPOINT/health" 2>/dev/null |
    grep -q '"health":"true"'
}
stop_assembly() {
  if [ -n "$ASSEMBLY_PID" ]; then kill "$ASSEMBLY_PID" 2>/dev/null || true; wait "$ASSEMBLY_PID" 2>/dev/null || true; ASSEMBLY_PID=""; fi
}

# apply_deltas BASE TARGET: the base restored into a throwaway single-member etcd on loopback (TLS,
# client certificates required, in $WORK/assembly), and the final state of every key the events touched
# (up to TARGET) written to it in batches; it is left running (stop_assembly). History between the base
# and TARGET is not kept: the restore marks it compacted anyway.
apply_deltas() {
  local base="$1" target="$2" dir="$WORK/assembly" port peer
  port=$((ASSEMBLY_PORT_BASE)); peer=$((ASSEMBLY_PORT_BASE + 1))
  ASSEMBLY_ENDPOINT="https://127.0.0.1:$port"
  # --skip-hash-check: the base was just authenticated by its tag (HMAC-SHA256 over every byte); etcdutl's own
  # hash would read it once more.
  "$ETCDUTL" snapshot restore "$base" --skip-hash-check --name assemble --initial-cluster "assemble=https://127.0.0.1:$peer" \
    --initial-advertise-peer-urls "https://127.0.0.1:$peer" --data-dir "$dir" >/dev/null 2>"$WORK/assembly.err" ||
    fail "etcdutl snapshot restore of the base failed: $(grep -v '^{' "$WORK/assembly.err" | tail -n 2 | paste -sd' ' -)"
  phase "assembly-restore"
  # A throwaway instance whose output is verified below: fsync buys nothing here.
  "$ETCD" --name assemble --data-dir "$dir" --listen-client-urls "$ASSEMBLY_ENDPOINT" --advertise-client-urls "$ASSEMBLY_ENDPOINT" \
    --listen-peer-urls "https://127.0.0.1:$peer" --initial-advertise-peer-urls "https://127.0.0.1:$peer" \
    --initial-cluster "assemble=https://127.0.0.1:$peer" --listen-metrics-urls "" \
    --cert-file "$ETCD_SERVER_CERT_FILE" --key-file "$ETCD_SERVER_KEY_FILE" --client-cert-auth --trusted-ca-file "$ETCD_CA_FILE" \
    --peer-cert-file "$ETCD_PEER_CERT_FILE" --peer-key-file "$ETCD_PEER_KEY_FILE" --peer-client-cert-auth --peer-trusted-ca-file "$ETCD_CA_FILE" \
    --max-txn-ops 100000 --max-request-bytes 33554432 --quota-backend-bytes 8589934592 --unsafe-no-fsync --log-level error \
    > "$WORK/assembly.log" 2>&1 &
  ASSEMBLY_PID=$!
  local i
  # Polled with curl: etcdctl's first dial of a port not yet open waits out gRPC's one-second backoff.
  for i in $(seq 1 600); do
    if assembly_healthy; then break; fi
    kill -0 "$ASSEMBLY_PID" 2>/dev/null || fail "the assembly etcd exited: $(tail -n 3 "$WORK/assembly.log" | paste -sd' ' -)"
    sleep 0.1
  done
  assembly_healthy || fail "the assembly etcd did not become healthy"
  phase "assembly-start"
  # One line per event, then the last event of each key up to TARGET, as gateway txn operations.
  grep -oE '\{("type":1,)?"kv":\{[^}]*\}\}' "$WORK/events" |
    awk -v target="$target" -f "$BACKUP_LIB_DIR/condense.awk" > "$WORK/ops"
  # Transactions of at most 500 operations or about 4 MB (under --max-request-bytes), written by awk:
  # a shell loop over the operations cost seconds for a thousand keys.
  awk -v dir="$WORK" '
    function flush() { if (n) { printf "]}" > f; close(f); n = 0; bytes = 0 } }
    NF {
      if (n == 0) { f = sprintf("%s/txn-%06d.json", dir, ++batches); printf "{\"success\":[" > f } else printf "," > f
      printf "%s", $0 > f; n++; bytes += length($0)
      if (n >= 500 || bytes >= 4000000) flush()
    }
    END { flush() }' "$WORK/ops"
  local txn
  for txn in "$WORK"/txn-*.json; do
    [ -e "$txn" ] || continue
    txn_batch "$txn"
  done
  phase "apply"
}

# txn_batch FILE: one batch of operations as one transaction, through etcd's JSON gateway (keys and
# values stay base64).
txn_batch() {
  curl -sS --fail-with-body --max-time 120 --cacert "$ETCD_CA_FILE" --cert "$ETCD_CERT_FILE" --key "$ETCD_KEY_FILE" \
    -H 'Content-Type: application/json' --data-binary "@$1" "$ASSEMBLY_ENDPOINT/v3/kv/txn" > "$WORK/txn.out" 2>&1 ||
    fail "applying events to the assembly etcd failed: $(head -c 300 "$WORK/txn.out")"
  rm -f "$1"
}

# ---------------------------------------------------------------------------------------------------
install -d -m 0700 "$BACKUP_WORK_DIR"
WORK=$(mktemp -d "$BACKUP_WORK_DIR/run.XXXXXX")
IS_LEADER=no
trap on_exit EXIT
trap 'stop_assembly' TERM INT
case "$STEP" in
  delta) RECORD_FAILURES=yes; run_delta ;;
  full) RECORD_FAILURES=yes; run_full ;;
  gc) read_status; run_gc ;;
  fetch-restore) shift; trap 'rc=$?; stop_assembly; rm -rf "$WORK"; exit $rc' EXIT; run_fetch_restore "$@" ;;
  *) echo "usage: etcd-backup delta|full|gc|fetch-restore ID TARGET EXPECTED_KEYS OBJECT..." >&2; exit 2 ;;
esac
