#!/bin/sh
# All four areas (judges, selection, claims_shards, tables); arguments go to run.py (e.g. --sample 25, an area).
exec nice -n 19 python "$(dirname "$0")/run.py" "$@"
