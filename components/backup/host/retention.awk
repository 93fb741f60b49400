# retention.awk: which backup objects to delete (etcd-pulumi). Input: the store's keys relative to its
# prefix, one per line (cluster-<id>/full/<rev>-<time>-k<n>.db.gz.enc,
# .../delta/<from>-<to>-<time>-k<n>.events.gz.enc, .../HEAD). Output: the keys to delete.
# Variables: now (epoch seconds), all_within (seconds: everything newer is kept), hourly, daily, weekly
# (how many hours/days/weeks keep their newest full base). Always kept: the newest full base and the
# deltas after it (the latest restore point), and for every kept delta the full base it applies to and
# the deltas between them. A delta alone restores nothing, a full alone restores its own moment.

# YYYYMMDDTHHMMSSZ -> seconds since the epoch (days from civil, proleptic Gregorian; no mktime in mawk).
function epoch(s,    y, mo, d, yy, era, yoe, m, doy, doe) {
  y = substr(s, 1, 4) + 0; mo = substr(s, 5, 2) + 0; d = substr(s, 7, 2) + 0
  yy = y - (mo <= 2 ? 1 : 0)
  era = int((yy >= 0 ? yy : yy - 399) / 400)
  yoe = yy - era * 400
  m = mo + (mo > 2 ? -3 : 9)
  doy = int((153 * m + 2) / 5) + d - 1
  doe = yoe * 365 + int(yoe / 4) - int(yoe / 100) + doy
  return (era * 146097 + doe - 719468) * 86400 + substr(s, 10, 2) * 3600 + substr(s, 12, 2) * 60 + substr(s, 14, 2)
}

# The newest full base of one bucket size (seconds; weeks start on Monday) within `count` buckets.
function tier(size, offset, count,    i, b, pick) {
  if (count <= 0) return
  for (i = 1; i <= n; i++) {
    if (kind[i] != "full" || t[i] < now - count * size) continue
    b = int((t[i] + offset) / size)
    if (!(b in pick) || t[i] > t[pick[b]] || (t[i] == t[pick[b]] && to[i] > to[pick[b]])) pick[b] = i
  }
  for (b in pick) keep[pick[b]] = 1
}

{
  parts = split($0, p, "/")
  if (parts >= 2 && p[parts] == "HEAD") { head[p[parts - 1]] = $0; next }
  if (parts < 3) next
  file = p[parts]; dir = p[parts - 1]; c = p[parts - 2]
  if (dir != "full" && dir != "delta") next
  split(file, f, "-")
  n++
  key[n] = $0; kind[n] = dir; cluster[n] = c
  if (dir == "full") { from[n] = f[1] + 0; to[n] = f[1] + 0; t[n] = epoch(f[2]) }
  else { from[n] = f[1] + 0; to[n] = f[2] + 0; t[n] = epoch(f[3]) }
}

END {
  newest = 0
  for (i = 1; i <= n; i++) {
    if (t[i] >= now - all_within) keep[i] = 1
    if (kind[i] == "full" && (newest == 0 || t[i] > t[newest] || (t[i] == t[newest] && to[i] > to[newest]))) newest = i
  }
  if (newest) {
    keep[newest] = 1
    for (i = 1; i <= n; i++) if (kind[i] == "delta" && cluster[i] == cluster[newest] && to[i] > to[newest]) keep[i] = 1
  }
  tier(3600, 0, hourly)
  tier(86400, 0, daily)
  tier(604800, 259200, weekly)
  # Every kept delta keeps the full base it applies to and the deltas between the two.
  for (d = 1; d <= n; d++) {
    if (kind[d] != "delta" || !(d in keep)) continue
    base = 0
    for (i = 1; i <= n; i++) {
      if (kind[i] == "full" && cluster[i] == cluster[d] && to[i] <= to[d] && (base == 0 || to[i] > to[base])) base = i
    }
    if (!base) continue
    need[base] = 1
    for (i = 1; i <= n; i++) {
      if (kind[i] == "delta" && cluster[i] == cluster[d] && to[i] > to[base] && to[i] <= to[d]) need[i] = 1
    }
  }
  for (i in need) keep[i] = 1
  for (i = 1; i <= n; i++) {
    if (i in keep) alive[cluster[i]] = 1
    else print key[i]
  }
  for (c in head) if (!(c in alive)) print head[c]
}
