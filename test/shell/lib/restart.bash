# Sourced by shell tests that restart the server they run against.
#
#   restart_prepare DB     find the data directory, its owner, the postmaster
#                          and a pg_ctl of the server's major version
#   restart_server MODE    pg_ctl restart -m MODE as the data directory's
#                          owner, with the postmaster's own environment and
#                          log file; checks that the server was restarted and
#                          that its environment (MALLOC_PERTURB_, ...) is kept
#
# It works under pg_virtualenv, under /work/tools/pgtmpp and under
# scripts/memcheck.sh alike: PG_CONFIG, when set, names the installation;
# otherwise the running postmaster's own bin directory is used.  After
# restart_server, postmaster and new_postmaster hold the two pids.

restart_prepare() {
    local qdb=$1
    datadir=$(psql -XAtq -d "$qdb" -c "SHOW data_directory")
    local major=$(($(psql -XAtq -d "$qdb" -c "SHOW server_version_num") / 10000))
    owner=$(stat -c %U "$datadir")
    postmaster=$(head -1 "$datadir/postmaster.pid")
    if [ -n "${PG_CONFIG:-}" ]; then
        bindir=$("$PG_CONFIG" --bindir)
    else
        bindir=$(dirname "$(readlink "/proc/$postmaster/exe")")
    fi
    local ctl_major
    ctl_major=$("$bindir/pg_ctl" --version | sed -n 's/^pg_ctl (PostgreSQL) \([0-9]*\).*/\1/p')
    if [ "$ctl_major" != "$major" ]; then
        echo "$bindir/pg_ctl is of PostgreSQL ${ctl_major:-?}, the server of $major"; exit 1
    fi
    # the postmaster's log (its stderr) and environment (MALLOC_PERTURB_, ...)
    restart_log=$(readlink "/proc/$postmaster/fd/2")
    if [ ! -f "$restart_log" ]; then restart_log=/dev/null; fi
    mapfile -d '' restart_environ <"/proc/$postmaster/environ"
    restart_before_env=$(restart_envlist "$postmaster")
}

# to compare, without the variables pg_ctl sets itself (PWD: where it ran)
restart_envlist() { tr '\0' '\n' <"/proc/$1/environ" | grep -v '^PG_GRANDPARENT_PID=\|^PWD=' | sort; }

restart_server() {
    local cmd=("$bindir/pg_ctl" -D "$datadir" -w -t 60 -l "$restart_log" -m "$1" restart)
    if [ "$(id -un)" = "$owner" ]; then
        env -i "${restart_environ[@]}" "${cmd[@]}" >/dev/null
    else
        runuser -u "$owner" -- env -i "${restart_environ[@]}" "${cmd[@]}" >/dev/null
    fi
    new_postmaster=$(head -1 "$datadir/postmaster.pid")
    if [ "$new_postmaster" = "$postmaster" ]; then echo "the server was not restarted"; exit 1; fi
    if [ "$(restart_envlist "$new_postmaster")" != "$restart_before_env" ]; then
        echo "the restarted postmaster's environment differs:"
        diff <(echo "$restart_before_env") <(restart_envlist "$new_postmaster") || true
        exit 1
    fi
    postmaster_before=$postmaster
    postmaster=$new_postmaster
}
