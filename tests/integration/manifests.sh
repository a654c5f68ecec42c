#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Manifest conformance corpus: run `$ACTOOL validate` on every fixture listed in
# fixtures/manifests/expected.tsv and check the verdict.
#   valid   -> exit status 0
#   invalid -> exit status 1 and stderr containing the row's json-path
#              (no path check when the path is "-")
# Rows of fixtures/manifests/deviations.tsv override the verdict: there we
# deliberately differ from the Go reference actool (see the README there).
# One TAP line per fixture.
# MANIFESTS_VERDICT_ONLY=1 checks only valid/invalid (any non-zero exit counts
# as invalid, no path check): use it to run the corpus against the Go reference,
# whose messages carry no paths and which panics (exit 2) on a few inputs.
. "${top_srcdir:?top_srcdir must be set}/tests/integration/lib.sh"

dir=$top_srcdir/fixtures/manifests
expected=$dir/expected.tsv
deviations=$dir/deviations.tsv

if [ ! -r "$expected" ]; then
  not_ok "read $expected"
  done_testing
  exit
fi

# file -> our verdict, from deviations.tsv
declare -A override=()
if [ -r "$deviations" ]; then
  while IFS=$'\t' read -r file ours _ref _reason; do
    case $file in '' | '#'*) continue ;; esac
    override[$file]=$ours
  done <"$deviations"
fi

# fixed_in STRING FILE: STRING occurs literally in FILE
fixed_in() { grep -Fq -- "$1" "$2"; }

while IFS=$'\t' read -r file verdict path; do
  case $file in '' | '#'*) continue ;; esac
  f=$dir/$file
  desc="$file"
  if [ -n "${override[$file]:-}" ] && [ "${override[$file]}" != "$verdict" ]; then
    desc="$file (deviation: reference says $verdict)"
    verdict=${override[$file]}
    path=-
  fi
  if [ ! -e "$f" ]; then
    not_ok "$desc"
    diag "missing fixture $f"
    continue
  fi
  status=0
  "$ACTOOL" validate "$f" >"$TMP/.out" 2>"$TMP/.err" || status=$?
  case $verdict in
  valid)
    if [ "$status" -eq 0 ]; then ok "$desc is valid"; else
      not_ok "$desc is valid"
      diag "exit $status (wanted 0)" "stderr: $(head -c 2000 "$TMP/.err")"
    fi
    ;;
  invalid)
    if [ -n "${MANIFESTS_VERDICT_ONLY:-}" ]; then
      if [ "$status" -ne 0 ]; then ok "$desc is invalid"; else
        not_ok "$desc is invalid"
        diag "exit 0 (wanted non-zero)"
      fi
    elif [ "$status" -eq 1 ] && { [ "$path" = - ] || fixed_in "$path" "$TMP/.err"; }; then
      ok "$desc is invalid${path:+ at $path}"
    else
      not_ok "$desc is invalid${path:+ at $path}"
      diag "exit $status (wanted 1)" "stderr: $(head -c 2000 "$TMP/.err")"
    fi
    ;;
  *)
    not_ok "$desc"
    diag "bad verdict '$verdict' in $expected"
    ;;
  esac
done <"$expected"

# Lists as long as the 16 MiB limit allows: a repeat is found in one pass.
# (Comparing every pair took minutes for each; 60 s is far from both.)
python3 - "$TMP" <<'PY'
import json, sys
d, n = sys.argv[1], 300000
base = {"acKind": "ImageManifest", "acVersion": "0.8.11", "name": "example.com/long"}
many = [{"name": "n%d" % i, "value": "v"} for i in range(n)]
json.dump(dict(base, annotations=many), open(d + "/long-annotations.json", "w"))
json.dump(dict(base, annotations=many + [{"name": "n0", "value": "again"}]), open(d + "/long-repeat.json", "w"))
env = [{"name": "E%d" % i, "value": "v"} for i in range(n)]
json.dump(dict(base, app={"exec": ["/x"], "user": "0", "group": "0", "environment": env}),
          open(d + "/long-env.json", "w"))
pod = {"acKind": "PodManifest", "acVersion": "0.8.11",
       "apps": [{"name": "a%d" % i, "image": {"id": "sha512-" + "0" * 128}} for i in range(60000)]}
json.dump(pod, open(d + "/long-pod.json", "w"))
PY
check "300,000 annotations validate" timeout 60 "$ACTOOL" validate --type=manifest "$TMP/long-annotations.json"
check_fails "... and the last, a repeat of the first, is found" 1 'annotations\[300000\].name: duplicate annotation "n0"' \
  timeout 60 "$ACTOOL" validate --type=manifest "$TMP/long-repeat.json"
check "300,000 environment variables validate" timeout 60 "$ACTOOL" validate --type=manifest "$TMP/long-env.json"
check "a pod of 60,000 apps validates" timeout 60 "$ACTOOL" validate --type=manifest "$TMP/long-pod.json"

done_testing
