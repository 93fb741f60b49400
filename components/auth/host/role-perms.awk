# Managed by etcd-pulumi (etcd-auth). Reads `etcdctl role get ROLE -w json` (one JSON line) and prints
# one line per permission of the role:  TYPE KEY END
#   TYPE as etcd numbers it (0 read, 1 write, 2 readwrite; etcd omits 0), KEY and END base64 as etcd
#   prints them, "-" where etcd omits one (END: a single key).
# Base64 holds no quote, brace or bracket, so splitting the "perm" array on "},{" is exact.

function field(item, name, absent,    m) {
  if (match(item, "\"" name "\":\"[^\"]*\"")) {
    m = substr(item, RSTART + length(name) + 4, RLENGTH - length(name) - 5)
    return m == "" ? absent : m
  }
  if (match(item, "\"" name "\":[0-9]+")) return substr(item, RSTART + length(name) + 3, RLENGTH - length(name) - 3)
  return absent
}

{
  start = index($0, "\"perm\":[")
  if (start == 0) next
  rest = substr($0, start + 8)
  rest = substr(rest, 1, index(rest, "]") - 1)
  n = split(rest, items, "},{")
  for (i = 1; i <= n; i++) print field(items[i], "permType", "0"), field(items[i], "key", "-"), field(items[i], "range_end", "-")
}
