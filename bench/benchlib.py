"""Pieces the benchmarks share (bench/batch.py, bench/files.py)."""
import os

CLK_TCK = os.sysconf("SC_CLK_TCK")


def server_cpu():
    """User and system CPU seconds of the whole server: the postmaster
    (with its reaped children) and its live children, from /proc.  None
    when not readable (no PGDATA, or the server is elsewhere)."""
    pgdata = os.environ.get("PGDATA")
    if not pgdata:
        return None
    try:
        with open(os.path.join(pgdata, "postmaster.pid")) as f:
            pm = int(f.readline())
    except (OSError, ValueError):
        return None

    def stat(pid):
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[1]), [int(x) for x in fields[11:15]]

    try:
        _, (u, s, cu, cs) = stat(pm)
    except OSError:
        return None
    user, system = u + cu, s + cs
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            ppid, (u, s, _, _) = stat(int(d))
        except (OSError, IndexError, ValueError):
            continue
        if ppid == pm:
            user += u
            system += s
    return user / CLK_TCK, system / CLK_TCK


def cpu_model():
    """The CPU's model name from /proc/cpuinfo, or "?"."""
    try:
        with open("/proc/cpuinfo") as f:
            return next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        return "?"
