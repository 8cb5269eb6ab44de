#!/usr/bin/env bash
# Times a fresh `pip install .` (new venv, build isolation, nothing cached but pip's wheel
# cache of the build requirements) of the working tree and of any git revisions given, one
# after the other in one run, and checks that the install leaves no build output behind.
# usage: bench/install_time.sh [REV ...]      e.g. bench/install_time.sh 6a05cec
# Prints: label, wall seconds, CPU seconds (user+sys of the whole build), load average.
set -euo pipefail
top=$(git rev-parse --show-toplevel)
work=$(mktemp -d /tmp/alskit-install.XXXXXX)
trap 'rm -rf "$work"' EXIT

snapshot() {  # $1 label, $2 revision or "" for the working tree
    mkdir -p "$work/$1"
    if [ -z "$2" ]; then
        git -C "$top" ls-files -z --cached --others --exclude-standard |
            (cd "$top" && tar --null -T - -cf -) | tar xf - -C "$work/$1"
    else
        git -C "$top" archive "$2" | tar xf - -C "$work/$1"
    fi
}

measure() {  # $1 label
    python3 -m venv "$work/$1.venv"
    local start end
    start=$(date +%s.%N)
    /usr/bin/time -f "%U %S" -o "$work/$1.cpu" \
        "$work/$1.venv/bin/pip" install -q "$work/$1" > "$work/$1.log" 2>&1 ||
        { echo "$1: pip install failed:"; tail -5 "$work/$1.log"; return 1; }
    end=$(date +%s.%N)
    read -r user sys < "$work/$1.cpu"
    local left="none"
    [ -e "$work/$1/build" ] && left="build/ ($(du -sh "$work/$1/build" | cut -f1))"
    printf '%-16s wall %6.1f s   cpu %6.1f s   load %s   left in tree: %s\n' "$1" \
        "$(echo "$end - $start" | bc)" "$(echo "$user + $sys" | bc)" \
        "$(cut -d' ' -f1 /proc/loadavg)" "$left"
}

labels=(working-tree)
snapshot working-tree ""
for rev in "$@"; do labels+=("$rev"); snapshot "$rev" "$rev"; done
echo "nproc $(nproc); $(python3 --version); $(g++ --version | head -1)"
for label in "${labels[@]}"; do measure "$label"; done
