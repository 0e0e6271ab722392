#!/bin/sh
# The image's entrypoint. Before a crawl (`news-ingest` or `scrapy` with crawlall, crawl or
# flush) it checks that the folders the run writes in (state, lock, local output, S3 spool) are
# writable by the user the container runs as. A host folder bind-mounted on /data often is not:
# it belongs to a host user, and the image runs as uid 10001. Then ONE line says what is wrong
# and how to fix it, and the container exits 2 (could not start) instead of failing later.
# Every other command, and a crawl once the check passes, is exec'd unchanged.
set -eu

uid=$(id -u)
gid=$(id -g)

cannot_start() {
    echo "news-ingest: cannot start: $1" >&2
    exit 2
}

owner_of() {
    stat -c 'owner %u:%g, mode %a' -- "$1" 2>/dev/null || echo "owner unknown"
}

fix_for() {
    case $1 in
        /data | /data/*) host="<the host folder mounted on /data>" ;;
        *) host=$1 ;;
    esac
    echo "Fix: sudo chown -R $uid:$gid $host, or (if it is yours) run with --user \"\$(id -u):\$(id -g)\", or mount a named volume on /data instead; in Kubernetes set securityContext.fsGroup: $gid"
}

absolute() {
    case $1 in
        /*) echo "$1" ;;
        *) echo "$(pwd)/$1" ;; # relative paths mean the working directory, as for the crawler
    esac
}

# $1 is (or will be) a folder the run creates files in: it, or else its nearest existing parent
# (the crawler creates the missing folders), must be a folder this user can write in.
check_folder() {
    folder=$(absolute "$1")
    while [ ! -e "$folder" ] && [ ! -L "$folder" ]; do
        folder=$(dirname -- "$folder")
    done
    if [ ! -d "$folder" ]; then
        cannot_start "$folder ($2) is not a folder"
    fi
    if [ ! -w "$folder" ] || [ ! -x "$folder" ]; then
        cannot_start "$folder ($2) is not writable by uid $uid gid $gid ($(owner_of "$folder")). $(fix_for "$folder")"
    fi
}

# A file the run writes: its folder must be writable, and the file too when it exists.
check_file() {
    file=$(absolute "$1")
    check_folder "$(dirname -- "$file")" "$2"
    if [ -e "$file" ] && [ ! -w "$file" ]; then
        cannot_start "$file ($2) is not writable by uid $uid gid $gid ($(owner_of "$file")). $(fix_for "$file")"
    fi
}

# What the run will use: the environment, then -s NAME=VALUE (which wins, as in Scrapy).
state=${NEWS_STATE:-}
output=${NEWS_OUTPUT:-}
spool=${NEWS_SINK_SPOOL:-}
lock=${NEWS_LOCK_FILE:-}
command=""
help=no

apply_setting() {
    case $1 in
        NEWS_STATE=*) state=${1#*=} ;;
        NEWS_OUTPUT=*) output=${1#*=} ;;
        NEWS_SINK_SPOOL=*) spool=${1#*=} ;;
        NEWS_LOCK_FILE=*) lock=${1#*=} ;;
    esac
}

scan_arguments() {
    shift # the program
    while [ $# -gt 0 ]; do
        case $1 in
            -s | --set)
                if [ $# -gt 1 ]; then
                    apply_setting "$2"
                    shift
                fi
                ;;
            -h | --help) help=yes ;; # writes nothing
            --set=*) apply_setting "${1#--set=}" ;;
            -s?*) apply_setting "${1#-s}" ;;
            -*) ;;
            *) [ -n "$command" ] || command=$1 ;; # Scrapy's command: the first non-option argument
        esac
        shift
    done
}

case ${1:-} in
    news-ingest | */news-ingest | scrapy | */scrapy) scan_arguments "$@" ;;
esac

case $help:$command in
    no:crawlall | no:crawl | no:flush)
        # Paths with another scheme than file:// or sqlite://, or starting with ~, are left to the crawler.
        state=${state#sqlite://}
        case $state in
            "" | *://* | "~"*) state="" ;;
            *) check_file "$state" NEWS_STATE ;;
        esac
        case $lock in
            "" | "~"*) ;;
            *) check_file "$lock" NEWS_LOCK_FILE ;;
        esac
        case $output in
            s3://*)
                if [ -n "$spool" ]; then
                    case $spool in
                        "~"*) ;;
                        *) check_folder "$spool" NEWS_SINK_SPOOL ;;
                    esac
                elif [ -n "$state" ]; then
                    check_folder "$(dirname -- "$state")/spool" "the S3 spool beside NEWS_STATE"
                fi
                ;;
            file://*) check_folder "${output#file://}" NEWS_OUTPUT ;;
            "" | *://* | "~"*) ;;
            *) check_folder "$output" NEWS_OUTPUT ;;
        esac
        ;;
esac

exec "$@"
