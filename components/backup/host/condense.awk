# condense.awk: the final state of every key that a run of watch events touched, as etcd gateway
# transaction operations (etcd-pulumi backup restore). Input: one event per line, as `etcdctl watch -w
# json` prints them (keys and values base64), in any order, possibly overlapping; events after `target`
# (a revision) are ignored. Output: one `request_put` or `request_delete_range` operation per key.
# Leases and per-key version counters are not replayed: the restore starts a new cluster anyway.
{
  if (!match($0, /"key":"[^"]*"/)) next
  key = substr($0, RSTART + 7, RLENGTH - 8)
  if (!match($0, /"mod_revision":[0-9]+/)) next
  rev = substr($0, RSTART + 15, RLENGTH - 15) + 0
  if (rev > target) next
  if ((key in seen) && seen[key] >= rev) next
  seen[key] = rev
  if ($0 ~ /^\{"type":1,/) {
    op[key] = "{\"request_delete_range\":{\"key\":\"" key "\"}}"
  } else {
    value = ""
    if (match($0, /"value":"[^"]*"/)) value = substr($0, RSTART + 9, RLENGTH - 10)
    op[key] = "{\"request_put\":{\"key\":\"" key "\",\"value\":\"" value "\"}}"
  }
}
END { for (k in op) print op[k] }
