#!/bin/sh
# curl_objects.sh: a prefix downloaded with curl alone, the way a shell user does it: the
# listing (ListObjectsV2, pages of 1000, anonymous on the bench's public-read bucket) with curl,
# the keys cut out of the XML with grep/awk, then one `curl --parallel --parallel-max N` over
# a -K config of url/output pairs (the "objects" mode of bench/run.py).
#
#   curl_objects.sh ENDPOINT BUCKET PREFIX OUTPUT_DIR CONFIG_FILE PARALLEL [CA_FILE]
#
# ENDPOINT is http(s)://host:port (path-style URLs); PREFIX and the keys must be URL-safe as they
# are (the bench's keys are: letters, digits, '-', '.', '/'). The local path of a key is the key
# minus the prefix's directory part (the library's batch rule). CONFIG_FILE is written (outside
# OUTPUT_DIR). Nothing is fsync'd. Exit status: curl's (non-zero when a transfer failed).
set -eu
[ $# -ge 6 ] || { echo "usage: curl_objects.sh ENDPOINT BUCKET PREFIX OUTPUT_DIR CONFIG_FILE PARALLEL [CA_FILE]" >&2; exit 2; }
EP=$1 BUCKET=$2 PREFIX=$3 DEST=$4 CFG=$5 PAR=$6
CA=${7:-}
set --
[ -n "$CA" ] && set -- --cacert "$CA"
case $PREFIX in */*) STRIP=${PREFIX%/*}/ ;; *) STRIP= ;; esac

: >"$CFG"
token=
while :; do
    url="$EP/$BUCKET/?list-type=2&max-keys=1000&prefix=$PREFIX"
    [ -n "$token" ] && url="$url&continuation-token=$(printf %s "$token" | sed 's/=/%3D/g')"
    page=$(curl -s -f "$@" "$url")
    printf '%s' "$page" | grep -o '<Key>[^<]*</Key>' | sed 's:^<Key>::; s:</Key>$::' |
        awk -v ep="$EP" -v b="$BUCKET" -v strip="$STRIP" -v dest="$DEST" '
            /\/$/ { next }
            { printf "url = \"%s/%s/%s\"\noutput = \"%s/%s\"\n", ep, b, $0, dest, substr($0, length(strip) + 1) }' >>"$CFG"
    token=$(printf '%s' "$page" | grep -o '<NextContinuationToken>[^<]*<' | sed 's:^<NextContinuationToken>::; s:<$::') || token=
    [ -n "$token" ] || break
done
exec curl -s -f --no-progress-meter --create-dirs --parallel --parallel-max "$PAR" "$@" -K "$CFG"
