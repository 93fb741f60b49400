# shellcheck shell=bash
# Managed by etcd-pulumi (components/maintenance): the decisions of etcd-defrag, as pure functions of
# their arguments (no etcd, no state; test/unit/maintenance.test.ts runs them). Sourced by etcd-defrag.

# fragmented SIZE IN_USE MAX_IN_USE_RATIO MIN_RECLAIMABLE: true when less than MAX_IN_USE_RATIO of the
# file is in use and more than MIN_RECLAIMABLE bytes would be won back (etcd's mixin alert, by default).
fragmented() {
  awk -v size="$1" -v used="$2" -v ratio="$3" -v min="$4" 'BEGIN { exit !(size > 0 && used / size < ratio && size - used > min) }'
}

# next_member LEADER NAME...: which member to defragment next: the first follower by name; the leader
# only when it is the last one left (its leadership is moved away first).
next_member() {
  local leader=$1; shift
  local n
  n=$(printf '%s\n' "$@" | LC_ALL=C sort | awk -v l="$leader" '$0 != l { print; exit }')
  if [ -n "$n" ]; then printf '%s\n' "$n"; else printf '%s\n' "$leader"; fi
}

# nospace_verdict PERCENT NAME=SIZE=QUOTA...: "fits" when every member's database is below PERCENT% of
# the quota that member runs with (the alarm may be disarmed), else "outgrown NAME SIZE QUOTA" for the
# fullest one.
nospace_verdict() {
  local percent=$1; shift
  printf '%s\n' "$@" | awk -F= -v p="$percent" '
    $3 > 0 { r = $2 / $3; if (who == "" || r > max) { max = r; who = $1; size = $2; quota = $3 } }
    END { if (who != "" && max * 100 < p) print "fits"; else print "outgrown", who, size, quota }'
}

# all_serving_json JSON: true when `etcdctl endpoint health -w json` lists at least one endpoint and
# every one answered, a NOSPACE alarm alone not counting against it (reads still work then). Each member
# that raised it is listed: "Active Alarm(s): NOSPACE NOSPACE ".
all_serving_json() {
  local entries total ok
  entries=$(printf '%s' "$1" | grep -o '{[^}]*}' || true)
  total=$(printf '%s\n' "$entries" | grep -c '"endpoint"' || true)
  ok=$(printf '%s\n' "$entries" | grep -c -E -e '"health":true' -e '"error":"Active Alarm\(s\): (NOSPACE )+"' || true)
  [ "$total" -gt 0 ] && [ "$ok" -eq "$total" ]
}

# calendar_elapses EXPR BASE_EPOCH: the next two times (epoch seconds) the systemd calendar expression
# elapses after BASE_EPOCH, one per line (systemd-analyze computes them, in the host's time zone).
calendar_elapses() {
  local out
  out=$(systemd-analyze calendar --iterations=2 --base-time="@$2" "$1" 2>&1) || { printf '%s\n' "$out" >&2; return 1; }
  printf '%s\n' "$out" | awk '
    /Next elapse:|Iter\. #[0-9]+:/ { if (t != "") print t; t = $0; sub(/^[^:]*: /, "", t) }
    /\(in UTC\):/ { t = $0; sub(/^[^:]*: /, "", t) }
    END { if (t != "") print t }' | while IFS= read -r when; do date -d "$when" +%s; done
}

# schedule_verdict EXPR STORED_EXPR STORED_NEXT NOW LAST_PASS_START SLACK: what defragSchedule asks of
# this check. "off": no schedule. "init": nothing stored for this EXPR yet (store the next elapse). "wait":
# not due before STORED_NEXT. "satisfied": due, and a pass (on any member) started at most SLACK seconds
# before it, so store the next elapse. "due": run a pass. Clocks only decide whether a pass is repeated,
# never whether two run at once (that is the lock's job).
schedule_verdict() {
  local expr=$1 stored_expr=$2 next=$3 now=$4 last=$5 slack=$6
  if [ "$expr" = off ]; then echo off
  elif [ "$expr" != "$stored_expr" ] || [ -z "$next" ]; then echo init
  elif [ "$now" -lt "$next" ]; then echo wait
  elif [ -n "$last" ] && [ "$last" -ge $((next - slack)) ]; then echo satisfied
  else echo due
  fi
}

# schedule_slack FIRST SECOND: how far a pass may precede an elapse and still count for it: half the
# schedule's period, at most 15 minutes (covers members whose clocks differ a little).
schedule_slack() {
  local half=$((($2 - $1) / 2))
  if [ "$half" -gt 900 ]; then echo 900; else echo "$half"; fi
}
