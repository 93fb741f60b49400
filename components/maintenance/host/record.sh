# shellcheck shell=bash
# Managed by etcd-pulumi (components/maintenance): what a pass leaves for monitoring. Pure formatting
# plus atomic writes (temp file, then rename; world-readable). Sourced by etcd-defrag.

# json_string VALUE: VALUE as a JSON string (quotes, backslashes and control characters escaped).
json_string() {
  printf '%s' "$1" | awk 'BEGIN { ORS = "" } { gsub(/\\/, "\\\\\\\\"); gsub(/"/, "\\\""); gsub(/\t/, "\\t"); gsub(/\r/, ""); if (NR > 1) print "\\n"; print }' | { printf '"'; cat; printf '"'; }
}

# iso_ms EPOCH_MS: UTC time with milliseconds, e.g. 2026-12-01T10:00:00.123Z.
iso_ms() {
  printf '%s.%03dZ' "$(date -u -d "@$(($1 / 1000))" +%Y-%m-%dT%H:%M:%S)" $(($1 % 1000))
}

# seconds_ms MS: milliseconds as seconds with three decimals.
seconds_ms() {
  printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000))
}

# human_bytes BYTES: e.g. 12.3 MiB.
human_bytes() {
  awk -v b="$1" 'BEGIN { split("B KiB MiB GiB TiB", u, " "); i = 1; while (b >= 1024 && i < 5) { b /= 1024; i++ }; printf (i == 1 ? "%d %s" : "%.1f %s"), b, u[i] }'
}

# member_entry NAME ROLE START_MS END_MS SIZE_BEFORE INUSE_BEFORE SIZE_AFTER INUSE_AFTER RESULT [LEADERSHIP_TO]:
# one member of a pass as JSON.
member_entry() {
  local moved=""
  [ -z "${10:-}" ] || moved=",\"leadershipMovedTo\":$(json_string "${10}")"
  printf '{"member":%s,"role":%s,"result":%s,"startedAt":"%s","endedAt":"%s","startedAtMs":%s,"endedAtMs":%s,"durationSeconds":%s,"before":{"dbSize":%s,"dbSizeInUse":%s},"after":{"dbSize":%s,"dbSizeInUse":%s},"reclaimedBytes":%s%s}' \
    "$(json_string "$1")" "$(json_string "$2")" "$(json_string "$9")" "$(iso_ms "$3")" "$(iso_ms "$4")" "$3" "$4" "$(seconds_ms $(($4 - $3)))" \
    "$5" "$6" "$7" "$8" $(($5 - $7)) "$moved"
}

# write_atomically FILE: standard input into FILE, 0644, through a temp file in the same directory.
write_atomically() {
  local dir tmp
  dir=$(dirname "$1")
  install -d -m 0755 "$dir"
  tmp=$(mktemp "$dir/.$(basename "$1").XXXXXX")
  cat > "$tmp"
  chmod 0644 "$tmp"
  mv -f "$tmp" "$1"
}

# previous_metric FILE NAME: a metric's value in an earlier metrics file (0 when absent).
previous_metric() {
  awk -v n="$2" '$1 == n { v = $2 } END { print v + 0 }' "$1" 2>/dev/null || echo 0
}

# render_metrics RUN_SECONDS SUCCESS_SECONDS OK FAILURES DURATION RECLAIMED RECOVERIES: the metrics file.
render_metrics() {
  cat <<METRICS
# HELP etcd_pulumi_defrag_last_run_timestamp_seconds When the last defragmentation pass run on this member ended.
# TYPE etcd_pulumi_defrag_last_run_timestamp_seconds gauge
etcd_pulumi_defrag_last_run_timestamp_seconds $1
# HELP etcd_pulumi_defrag_last_success_timestamp_seconds When the last successful pass run on this member ended (0: none yet).
# TYPE etcd_pulumi_defrag_last_success_timestamp_seconds gauge
etcd_pulumi_defrag_last_success_timestamp_seconds $2
# HELP etcd_pulumi_defrag_last_run_success 1 when the last pass run on this member succeeded, 0 when it failed.
# TYPE etcd_pulumi_defrag_last_run_success gauge
etcd_pulumi_defrag_last_run_success $3
# HELP etcd_pulumi_defrag_failures_total Passes run on this member that failed.
# TYPE etcd_pulumi_defrag_failures_total counter
etcd_pulumi_defrag_failures_total $4
# HELP etcd_pulumi_defrag_last_duration_seconds How long the last pass run on this member took.
# TYPE etcd_pulumi_defrag_last_duration_seconds gauge
etcd_pulumi_defrag_last_duration_seconds $5
# HELP etcd_pulumi_defrag_reclaimed_bytes Bytes the last pass run on this member won back, whole cluster.
# TYPE etcd_pulumi_defrag_reclaimed_bytes gauge
etcd_pulumi_defrag_reclaimed_bytes $6
# HELP etcd_pulumi_nospace_recoveries_total NOSPACE alarms this member's passes recovered from (compacted, defragmented, disarmed).
# TYPE etcd_pulumi_nospace_recoveries_total counter
etcd_pulumi_nospace_recoveries_total $7
METRICS
}
