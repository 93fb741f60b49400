#!/bin/bash
# Managed by etcd-pulumi (components/maintenance): keeps the cluster's databases compact and recovers it
# from a full database (NOSPACE). The same program runs on every member; a lock held in etcd (lock.sh)
# lets one member at a time act on the whole cluster.
#   etcd-defrag check   what etcd-defrag.timer runs, cheaply: starts etcd-defrag.service when a NOSPACE
#                       alarm is raised, a member is fragmented past the threshold, or defragSchedule is due
#   etcd-defrag pass    one pass over the whole cluster (etcd-defrag.service; `systemctl start
#                       etcd-defrag.service` runs one now): every member defragmented in turn, followers
#                       first and the leader last (its leadership moved away first), each only while every
#                       member serves, each bounded, each waited for until it serves and has caught up.
#                       Under a NOSPACE alarm it first compacts to the current revision, and it disarms
#                       the alarm once every member's database is back under the quota, with a margin.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
umask 022
ENV_FILE=${ETCD_DEFRAG_ENV:-/etc/etcd-pulumi/maintenance/defrag.env}
[ -r "$ENV_FILE" ] || { echo "etcd-defrag on $(hostname): cannot read $ENV_FILE (written by pulumi up)" >&2; exit 1; }
# shellcheck source=/dev/null
. "$ENV_FILE"
# shellcheck source=rules.sh
. "$DEFRAG_LIB_DIR/rules.sh"
# shellcheck source=record.sh
. "$DEFRAG_LIB_DIR/record.sh"
# shellcheck source=lock.sh
. "$DEFRAG_LIB_DIR/lock.sh"

STEP=start
log() { echo "etcd-defrag: [$DEFRAG_MEMBER] $*"; }
warn() { echo "etcd-defrag: [$DEFRAG_MEMBER] warning: $*" >&2; }
fail() { FAILURE="$STEP: $*"; echo "etcd-defrag: [$DEFRAG_MEMBER] $STEP failed: $*" >&2; exit 1; }
now_ms() { date +%s%3N; }

# etcdctl over TLS with this host's client certificate; COMMAND_TIMEOUT bounds each call.
ectl() { "$ETCDCTL" --cacert="$ETCD_CA_FILE" --cert="$ETCD_CERT_FILE" --key="$ETCD_KEY_FILE" --dial-timeout=3s --command-timeout="${COMMAND_TIMEOUT:-10s}" "$@"; }
local_ectl() { ectl --endpoints="$ETCD_ENDPOINT" "$@"; }

# wait_for SECONDS CMD...: retry CMD every 0.5 s until it succeeds or the time is up.
wait_for() {
  local deadline=$((SECONDS + $1)); shift
  until "$@"; do (( SECONDS < deadline )) || return 1; sleep 0.5; done
}

# load_members: NAMES (started members, by name), MEMBER_URL[name], MEMBER_ID[name] (hex), LEARNERS, ALL_URLS.
declare -A MEMBER_URL=() MEMBER_ID=()
NAMES=(); LEARNERS=""; ALL_URLS=""
load_members() {
  local out id name client learner
  out=$(local_ectl member list -w simple 2>&1) || { MEMBERS_ERROR=$(printf '%s' "$out" | tail -n 1); return 1; }
  NAMES=(); LEARNERS=""; ALL_URLS=""; MEMBER_URL=(); MEMBER_ID=()
  while IFS= read -r line; do
    [ -n "$line" ] || continue
    IFS='|' read -r id _ name _ client learner <<< "${line//, /|}"
    if [ -z "$name" ] || [ -z "$client" ]; then continue; fi  # added but never started: serves nothing yet
    if [ "$learner" = true ]; then LEARNERS+="${LEARNERS:+ }$name"; continue; fi
    MEMBER_URL[$name]=${client%%,*}; MEMBER_ID[$name]=$id
    NAMES+=("$name")
  done <<< "$out"
  mapfile -t NAMES < <(printf '%s\n' "${NAMES[@]}" | LC_ALL=C sort)
  ALL_URLS=$(for n in "${NAMES[@]}"; do printf '%s\n' "${MEMBER_URL[$n]}"; done | paste -sd, -)
  [ "${#NAMES[@]}" -gt 0 ]
}

# status_of URL: S_SIZE, S_INUSE (bytes), S_LEADER (hex id of the leader it follows), S_RAFT_INDEX,
# S_APPLIED, S_REVISION, S_QUOTA (the quota it runs with: etcd 3.6 says; else quotaBackendBytes) of one member.
status_of() {
  local out
  out=$(COMMAND_TIMEOUT=5s ectl --endpoints="$1" endpoint status -w json 2>/dev/null) || return 1
  num() { { printf '%s' "$out" | grep -o "\"$1\":[0-9]*" || true; } | head -n 1 | cut -d: -f2; }
  S_SIZE=$(num dbSize); S_INUSE=$(num dbSizeInUse); S_RAFT_INDEX=$(num raftIndex); S_APPLIED=$(num raftAppliedIndex); S_REVISION=$(num revision)
  S_LEADER=$(printf '%x' "$(num leader)")
  S_QUOTA=$(num dbSizeQuota); S_QUOTA=${S_QUOTA:-$QUOTA_BACKEND_BYTES}
  [ -n "$S_SIZE" ] && [ -n "$S_INUSE" ] && [ -n "$S_APPLIED" ]
}

# name_of HEX_ID: the member's name (empty when not a started voter).
name_of() { local n; for n in "${NAMES[@]}"; do [ "${MEMBER_ID[$n]}" = "$1" ] && { printf '%s' "$n"; return 0; }; done; return 0; }

# leader_now: the name of the member that leads (as the local member sees it).
leader_now() { status_of "$ETCD_ENDPOINT" && [ "$S_LEADER" != 0 ] && name_of "$S_LEADER"; }

# serving URL...: every given member answers (a NOSPACE alarm alone does not count against it).
serving() {
  local urls out
  urls=$(printf '%s\n' "$@" | paste -sd, -)
  out=$(COMMAND_TIMEOUT=5s ectl --endpoints="$urls" endpoint health -w json 2>/dev/null) || true
  all_serving_json "$out" && [ "$(printf '%s' "$out" | grep -o '"endpoint"' | wc -l)" -eq "$#" ]
}

# all_members_serving: every voter serves, no learner is pending, one leader exists.
all_members_serving() {
  load_members || return 1
  [ -z "$LEARNERS" ] || return 1
  local urls=()
  for n in "${NAMES[@]}"; do urls+=("${MEMBER_URL[$n]}"); done
  serving "${urls[@]}" && [ -n "$(leader_now)" ]
}

# caught_up URL: the member serves and has applied everything the most advanced member had committed.
caught_up() {
  local target=0 n
  serving "$1" || return 1
  for n in "${NAMES[@]}"; do status_of "${MEMBER_URL[$n]}" || continue; (( S_RAFT_INDEX > target )) && target=$S_RAFT_INDEX; done
  status_of "$1" && (( S_APPLIED >= target ))
}

# alarms: the raised alarms, one "MEMBER_ID ALARM" pair per line (empty: none).
alarms() { local_ectl alarm list 2>/dev/null | sed -n 's/^memberID:\([0-9]*\) alarm:\([A-Z_]*\) *$/\1 \2/p'; }

# ---------------------------------------------------------------------------------------------------
# check: what etcd-defrag.timer runs. Reads a little (alarm list, the lock's keys, each member's
# status); starts a pass only when one is due. Quiet when there is nothing to do.
check() {
  STEP=check
  systemctl is-active --quiet etcd.service || exit 0          # etcd does not run here (yet): nothing to check
  case "$(systemctl show -p ActiveState --value etcd-defrag.service)" in activating | active | deactivating) exit 0 ;; esac  # a pass runs here already
  load_members || { log "cannot list the members through the local etcd: ${MEMBERS_ERROR:-}"; exit 0; }
  local alarm_list
  alarm_list=$(alarms) || { log "cannot list the alarms through the local etcd"; exit 0; }
  lock_read || { log "cannot read the maintenance lock"; exit 0; }
  if [ -z "$alarm_list" ]; then
    # Writes work: keep the roster current, so this member can take the lock even under a later NOSPACE.
    if ! lock_in_roster "$DEFRAG_MEMBER"; then lock_join >/dev/null || true; lock_read || exit 0; fi
    local gone
    gone=$(lock_prune "${NAMES[@]}" || true)
    [ -z "$gone" ] || log "dropped $gone from the maintenance roster (no longer members)"
  fi
  local holder
  holder=$(lock_holder)
  if [ "$holder" = "$DEFRAG_MEMBER" ]; then request resume "this member holds the maintenance lock from a pass that did not finish"; fi
  if printf '%s\n' "$alarm_list" | grep -q ' NOSPACE$'; then
    if [ -n "$holder" ]; then log "NOSPACE alarm raised; $holder holds the maintenance lock and recovers"; exit 0; fi
    request nospace "NOSPACE alarm raised: the cluster refuses writes"
  fi
  [ -z "$holder" ] || exit 0
  local n fragmented_members=""
  for n in "${NAMES[@]}"; do
    status_of "${MEMBER_URL[$n]}" || continue
    if fragmented "$S_SIZE" "$S_INUSE" "$DEFRAG_MAX_IN_USE_RATIO" "$DEFRAG_MIN_RECLAIMABLE_BYTES"; then
      fragmented_members+="${fragmented_members:+, }$n ($(human_bytes "$S_INUSE") of $(human_bytes "$S_SIZE") in use)"
    fi
  done
  if [ -n "$fragmented_members" ]; then
    all_members_serving || { log "fragmented ($fragmented_members), waiting until every member serves"; exit 0; }
    request threshold "fragmented: $fragmented_members"
  fi
  schedule_check
}

# schedule_check: a pass when defragSchedule elapsed since this host last looked, unless a pass (on any
# member) already ran for that elapse.
schedule_check() {
  local now stored_expr="" stored_next="" last="" verdict elapses first second
  now=$(date +%s)
  if [ -s "$DEFRAG_SCHEDULE_FILE" ]; then IFS=$'\t' read -r stored_next stored_expr < "$DEFRAG_SCHEDULE_FILE" || true; fi
  last=$(printf '%s\n' "$LAST_PASS" | tr ' ' '\n' | sed -n 's/^start=//p')
  local slack=0
  if [ "$DEFRAG_SCHEDULE" != off ] && [ -n "$stored_next" ] && [ "$stored_expr" = "$DEFRAG_SCHEDULE" ]; then
    elapses=$(calendar_elapses "$DEFRAG_SCHEDULE" "$((stored_next - 1))") || fail "defragSchedule ${DEFRAG_SCHEDULE} is not a calendar expression systemd understands"
    first=$(printf '%s\n' "$elapses" | sed -n 1p); second=$(printf '%s\n' "$elapses" | sed -n 2p)
    slack=$(schedule_slack "$first" "$second")
  fi
  verdict=$(schedule_verdict "$DEFRAG_SCHEDULE" "$stored_expr" "$stored_next" "$now" "$last" "$slack")
  case "$verdict" in
    off | wait) ;;
    init | satisfied)
      elapses=$(calendar_elapses "$DEFRAG_SCHEDULE" "$now") || fail "defragSchedule ${DEFRAG_SCHEDULE} is not a calendar expression systemd understands"
      printf '%s\t%s\n' "$(printf '%s\n' "$elapses" | sed -n 1p)" "$DEFRAG_SCHEDULE" | write_atomically "$DEFRAG_SCHEDULE_FILE" ;;
    due)
      all_members_serving || { log "defragSchedule is due, waiting until every member serves"; exit 0; }
      request schedule "defragSchedule ${DEFRAG_SCHEDULE} is due" ;;
  esac
}

# request REASON WHY: start a pass (the pass reads REASON; without one, it was started by hand).
request() {
  install -d -m 0755 "$(dirname "$DEFRAG_REQUEST_FILE")"
  printf '%s %s\n' "$1" "$(date +%s)" > "$DEFRAG_REQUEST_FILE"
  log "$2: starting etcd-defrag.service"
  systemctl start --no-block etcd-defrag.service
  exit 0
}

# ---------------------------------------------------------------------------------------------------
# pass: one pass over the whole cluster.
HOLDING=0; LOCKED_MS=""; IN_FLIGHT=""; SKIPPED=0; REPEAT=0; NOSPACE=0; DISARMED=false; OUTGROWN=false; COMPACTED_TO=""; FAILURE=""
ENTRIES=(); RECLAIMED=0

pass() {
  REASON=manual; AUTOMATIC=false
  local requested="" at=0
  if [ -s "$DEFRAG_REQUEST_FILE" ]; then read -r requested at < "$DEFRAG_REQUEST_FILE" || true; fi
  rm -f "$DEFRAG_REQUEST_FILE"
  # A request is the check's only if it is fresh (the check starts the service right after writing it).
  if [ -n "$requested" ] && (( $(date +%s) - ${at:-0} <= 60 )); then REASON=$requested; AUTOMATIC=true; fi
  PASS_START_MS=$(now_ms)
  trap finish EXIT
  STEP="pass ($REASON)"
  load_members || fail "cannot list the members through the local etcd at $ETCD_ENDPOINT (${MEMBERS_ERROR:-}); is etcd running here?"

  STEP=lock
  local rc waited=0 deadline=$((SECONDS + LOCK_WAIT_SECONDS))
  while true; do
    rc=0; lock_take || rc=$?
    [ "$rc" = 0 ] && break
    [ "$rc" = 2 ] && fail "cannot take the maintenance lock: $LOCK_ERROR"
    if [ "$AUTOMATIC" = true ] && [ "$REASON" != resume ]; then
      SKIPPED=1; log "$LOCK_HOLDER runs a pass (it holds the maintenance lock); nothing to do here"; exit 0
    fi
    [ "$waited" = 1 ] || log "waiting for $LOCK_HOLDER's pass to finish (it holds the maintenance lock)"
    waited=1
    (( SECONDS < deadline )) || fail "$LOCK_HOLDER still holds the maintenance lock after ${LOCK_WAIT_SECONDS}s; see journalctl -u etcd-defrag.service on $LOCK_HOLDER"
    sleep 2
  done
  HOLDING=1
  LOCKED_MS=$(now_ms)
  if [ "$LOCK_RESUMED" = 1 ]; then log "holding the maintenance lock (still this member's from a pass that did not finish)"; else log "took the maintenance lock"; fi

  STEP=health
  wait_for "$HEALTH_TIMEOUT_SECONDS" all_members_serving || fail "not every member serves (or a learner is pending, or there is no leader) after ${HEALTH_TIMEOUT_SECONDS}s; no member defragmented"
  local alarm_list
  alarm_list=$(alarms) || fail "cannot list the alarms through the local etcd"
  if printf '%s\n' "$alarm_list" | grep -v ' NOSPACE$' | grep -q .; then
    fail "alarms other than NOSPACE are raised ($(printf '%s' "$alarm_list" | awk '{ print $2 }' | sort -u | paste -sd, -)): not touching this cluster; see etcd's journal"
  fi
  if [ -n "$alarm_list" ]; then NOSPACE=1; fi
  log "pass over ${NAMES[*]} ($REASON$([ "$NOSPACE" = 0 ] || echo ', NOSPACE alarm raised'))"

  if [ "$NOSPACE" = 1 ]; then
    STEP=compact
    status_of "$ETCD_ENDPOINT" || fail "cannot read the current revision"
    COMPACTED_TO=$S_REVISION
    local out c0 took_ms
    c0=$(now_ms)
    if ! out=$(COMMAND_TIMEOUT="${DEFRAG_TIMEOUT_SECONDS}s" local_ectl compact "$COMPACTED_TO" --physical 2>&1); then
      printf '%s' "$out" | grep -q 'required revision has been compacted' || fail "compaction to revision $COMPACTED_TO failed: $(printf '%s' "$out" | tail -n 1)"
    fi
    took_ms=$(($(now_ms) - c0))
    log "compacted to revision $COMPACTED_TO in $(seconds_ms "$took_ms") s (NOSPACE recovery)"
    if [ "$AUTOMATIC" = true ] && [ "$(cat "$DEFRAG_OUTGROWN_FILE" 2>/dev/null || true)" = "$COMPACTED_TO" ]; then
      # Neither a write nor a delete since the last recovery found the data too big: defragmenting again would
      # win nothing, only the quota may have changed. (Started by hand, a pass always does all the work.)
      REPEAT=1
      log "the last recovery found at this revision that the data outgrew the quota: not defragmenting again"
    else
      # The other members delete the compacted revisions on their own: once they applied the compaction, give
      # them as long as the local member took, so that no defragmentation copies what is about to go.
      for n in "${NAMES[@]}"; do wait_for "$HEALTH_TIMEOUT_SECONDS" caught_up "${MEMBER_URL[$n]}" || true; done
      sleep "$(seconds_ms $((took_ms < 60000 ? took_ms : 60000)))"
    fi
  fi

  local remaining=("${NAMES[@]}") done_members=() next leader role moved
  [ "$REPEAT" = 0 ] || remaining=()
  while [ "${#remaining[@]}" -gt 0 ]; do
    STEP=health
    wait_for "$HEALTH_TIMEOUT_SECONDS" all_members_serving || fail "not every member serves after ${HEALTH_TIMEOUT_SECONDS}s; stopped before ${remaining[*]}"
    leader=$(leader_now || true)
    next=$(next_member "$leader" "${remaining[@]}")
    role=follower; moved=""
    if [ "$next" = "$leader" ]; then
      role=leader
      moved=$(move_leadership_away "$next" "${done_members[@]}")
      if [ -n "$moved" ]; then
        wait_for "$HEALTH_TIMEOUT_SECONDS" all_members_serving || fail "not every member serves after moving the leadership to $moved"
      fi
    fi
    STEP="lock"
    lock_is_mine || fail "this member no longer holds the maintenance lock; stopped before $next"
    STEP="defragment $next"
    defragment "$next" "$role" "$moved"
    done_members+=("$next")
    local r=() n
    for n in "${remaining[@]}"; do [ "$n" = "$next" ] || r+=("$n"); done
    remaining=("${r[@]}")
  done

  if [ "$NOSPACE" = 1 ]; then nospace_disarm; fi
}

# move_leadership_away LEADER DONE...: hand the leadership to a member already defragmented (else any
# other) before the leader is defragmented, so clients see a transfer, not an election. Prints the new
# leader's name (empty when it could not be moved; the leader is defragmented anyway).
move_leadership_away() {
  local leader=$1; shift
  local candidates=() n
  for n in "$@" "${NAMES[@]}"; do [ "$n" = "$leader" ] || candidates+=("$n"); done
  [ "${#candidates[@]}" -gt 0 ] || return 0   # a one-member cluster: nobody to hand over to
  local to=${candidates[0]} out
  # etcdctl sends move-leader to whichever of the endpoints leads.
  if out=$(ectl --endpoints="$ALL_URLS" move-leader "${MEMBER_ID[$to]}" 2>&1) && wait_for 10 leader_is "$to"; then
    log "leadership moved from $leader to $to" >&2  # stdout is the answer
    printf '%s' "$to"
  else
    warn "could not move the leadership from $leader to $to ($(printf '%s' "$out" | tail -n 1)); defragmenting the leader"
  fi
}
leader_is() { [ "$(leader_now || true)" = "$1" ]; }

# defragment NAME ROLE [MOVED_TO]: one member, bounded; then wait until it serves and has caught up.
defragment() {
  local name=$1 role=$2 moved=${3:-} url=${MEMBER_URL[$1]} t0 t1 b_size b_use a_size a_use out err="" result=ok
  status_of "$url" || fail "cannot read $name's status"
  b_size=$S_SIZE; b_use=$S_INUSE
  t0=$(now_ms)
  log "defragmenting $name ($role): $(human_bytes "$b_size") file, $(human_bytes "$b_use") in use"
  IN_FLIGHT=$name
  out=$(COMMAND_TIMEOUT="${DEFRAG_TIMEOUT_SECONDS}s" ectl --endpoints="$url" defrag 2>&1) || err=$(printf '%s' "$out" | grep -v '^{"level"' | tail -n 1)
  # Whatever the answer, the next member only once this one serves again and has caught up.
  wait_for "$HEALTH_TIMEOUT_SECONDS" caught_up "$url" || { t1=$(now_ms); ENTRIES+=("$(member_entry "$name" "$role" "$t0" "$t1" "$b_size" "$b_use" "$b_size" "$b_use" failed "$moved")"); fail "$name does not serve or has not caught up ${HEALTH_TIMEOUT_SECONDS}s after its defragmentation${err:+ ($err)}"; }
  t1=$(now_ms)
  IN_FLIGHT=""
  status_of "$url" || true
  a_size=${S_SIZE:-$b_size}; a_use=${S_INUSE:-$b_use}
  [ -z "$err" ] || result=failed
  ENTRIES+=("$(member_entry "$name" "$role" "$t0" "$t1" "$b_size" "$b_use" "$a_size" "$a_use" "$result" "$moved")")
  [ -z "$err" ] || fail "defragmenting $name failed within ${DEFRAG_TIMEOUT_SECONDS}s (defragTimeoutSeconds): $err"
  RECLAIMED=$((RECLAIMED + b_size - a_size))
  log "defragmented $name ($role): $(human_bytes "$b_size") -> $(human_bytes "$a_size") in $(seconds_ms $((t1 - t0))) s; serves and caught up"
}

# nospace_disarm: disarm once every member's database fits under the quota with the margin; otherwise
# the data itself outgrew quotaBackendBytes: say so, leave the alarm, fail.
nospace_disarm() {
  STEP=nospace
  local sizes=() n verdict
  # Each member against the quota it runs with: after quotaBackendBytes was raised, members that have not restarted yet still have the old one.
  for n in "${NAMES[@]}"; do status_of "${MEMBER_URL[$n]}" || fail "cannot read $n's status"; sizes+=("$n=$S_SIZE=$S_QUOTA"); done
  verdict=$(nospace_verdict "$NOSPACE_DISARM_BELOW_PERCENT" "${sizes[@]}")
  if [ "$verdict" = fits ]; then
    local alarm_list
    alarm_list=$(alarms) || fail "cannot list the alarms through the local etcd"
    if printf '%s\n' "$alarm_list" | grep -v ' NOSPACE$' | grep -q .; then fail "an alarm other than NOSPACE was raised meanwhile: not disarming"; fi
    local_ectl alarm disarm >/dev/null || fail "alarm disarm failed"
    [ -z "$(alarms)" ] || fail "the NOSPACE alarm is still raised after disarming"
    DISARMED=true
    rm -f "$DEFRAG_OUTGROWN_FILE"
    log "NOSPACE alarm disarmed: every member's database is below ${NOSPACE_DISARM_BELOW_PERCENT}% of its quota (${sizes[*]}); writes are accepted again"
  else
    OUTGROWN=true
    printf '%s\n' "$COMPACTED_TO" | write_atomically "$DEFRAG_OUTGROWN_FILE"
    local who size quota
    read -r _ who size quota <<< "$verdict"
    fail "the data outgrew quotaBackendBytes ($quota bytes, $(human_bytes "$quota")): after compacting to revision $COMPACTED_TO and defragmenting every member, $who's database is still $(human_bytes "$size") ($((size * 100 / quota))% of the quota, the alarm is disarmed only below ${NOSPACE_DISARM_BELOW_PERCENT}%). The NOSPACE alarm stays raised and the cluster refuses writes. Raise quotaBackendBytes (pulumi config set quotaBackendBytes <bytes>, at most 8 GiB, then pulumi up: a rolling restart), or delete data (deletes still work); the next check (etcd-defrag.timer) or systemctl start etcd-defrag.service then disarms it"
  fi
}

# finish: on every exit of a pass: the record and the metrics, then the lock back; but not while a
# defragmentation of this pass may still run (its member has not served since), nor under NOSPACE.
finish() {
  local rc=$?
  trap - EXIT
  [ "$SKIPPED" = 0 ] || exit 0
  local end_ms result ok
  end_ms=$(now_ms)
  if [ "$rc" = 0 ]; then result=ok; ok=1; else result=failed; ok=0; fi
  [ -n "$FAILURE" ] || [ "$rc" = 0 ] || FAILURE="exit $rc in step $STEP"
  local entries
  entries=$(IFS=,; printf '%s' "${ENTRIES[*]}")
  {
    printf '{"time":"%s","member":%s,"reason":%s,"automatic":%s,"result":%s' "$(iso_ms "$end_ms")" "$(json_string "$DEFRAG_MEMBER")" "$(json_string "$REASON")" "$AUTOMATIC" "$(json_string "$result")"
    [ "$rc" = 0 ] || printf ',"error":%s' "$(json_string "$FAILURE")"
    printf ',"startedAt":"%s","endedAt":"%s","startedAtMs":%s,"endedAtMs":%s,"durationSeconds":%s,"waitedForLockSeconds":%s,"reclaimedBytes":%s' "$(iso_ms "$PASS_START_MS")" "$(iso_ms "$end_ms")" "$PASS_START_MS" "$end_ms" "$(seconds_ms $((end_ms - PASS_START_MS)))" "$(seconds_ms $((${LOCKED_MS:-$end_ms} - PASS_START_MS)))" "$RECLAIMED"
    printf ',"nospace":{"alarm":%s,"compactedToRevision":%s,"disarmed":%s,"outgrown":%s,"quotaBackendBytes":%s,"disarmBelowPercent":%s}' "$([ "$NOSPACE" = 1 ] && echo true || echo false)" "${COMPACTED_TO:-null}" "$DISARMED" "$OUTGROWN" "$QUOTA_BACKEND_BYTES" "$NOSPACE_DISARM_BELOW_PERCENT"
    printf ',"members":[%s]}\n' "$entries"
  } | write_atomically "$DEFRAG_RECORD_FILE"
  local m=$DEFRAG_METRICS_FILE failures recoveries last_success
  failures=$(previous_metric "$m" etcd_pulumi_defrag_failures_total)
  recoveries=$(previous_metric "$m" etcd_pulumi_nospace_recoveries_total)
  last_success=$(previous_metric "$m" etcd_pulumi_defrag_last_success_timestamp_seconds)
  if [ "$rc" = 0 ]; then last_success=$((end_ms / 1000)); else failures=$((failures + 1)); fi
  [ "$DISARMED" = false ] || recoveries=$((recoveries + 1))
  render_metrics $((end_ms / 1000)) "$last_success" "$ok" "$failures" "$(seconds_ms $((end_ms - PASS_START_MS)))" "$RECLAIMED" "$recoveries" | write_atomically "$m"
  if [ "$HOLDING" = 1 ]; then
    if [ "$rc" = 0 ]; then
      local_ectl put "$(lock_key last-pass)" "start=$((PASS_START_MS / 1000)) member=$DEFRAG_MEMBER reason=$REASON" >/dev/null 2>&1 || warn "could not record the pass in etcd"
    fi
    if [ -n "$(alarms)" ]; then
      log "keeping the maintenance lock: the NOSPACE alarm is raised (no write is accepted); the next run here goes on"
    elif [ -n "$IN_FLIGHT" ] && ! wait_for "$HEALTH_TIMEOUT_SECONDS" serving "${MEMBER_URL[$IN_FLIGHT]}"; then
      warn "keeping the maintenance lock: $IN_FLIGHT has not served since its defragmentation began (it may still run); the next check here goes on"
    elif lock_release; then
      log "released the maintenance lock"
    else
      warn "could not release the maintenance lock; the next check here goes on"
    fi
  fi
  if [ "$rc" = 0 ]; then
    log "pass done in $(seconds_ms $((end_ms - PASS_START_MS))) s: reclaimed $(human_bytes "$RECLAIMED")$([ "$DISARMED" = true ] && echo '; NOSPACE alarm disarmed'); record in $DEFRAG_RECORD_FILE"
  fi
  exit "$rc"
}

case "${1:-}" in
  check) check ;;
  pass) pass ;;
  *) echo "usage: $0 check|pass (etcd-defrag.timer runs check; systemctl start etcd-defrag.service runs a pass)" >&2; exit 2 ;;
esac
