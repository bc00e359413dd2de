# Shared by scripts/demo and scripts/test: a virtualenv with the project, and the services.
# Works on a fresh Debian/Ubuntu with Python >= 3.11, as root (CI) or with sudo.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV="$ROOT/.venv"

# Python may write its bytecode: with PYTHONDONTWRITEBYTECODE (set on some machines, this one
# included), every process compiled the project anew, and every pytest worker rewrote all the
# test modules: collection took 8.5 s of CPU per worker against 3.2 s once cached.
unset PYTHONDONTWRITEBYTECODE

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

apt_install() {
    say "apt-get install $*"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# System libraries weasyprint renders with (Pango, HarfBuzz; subsetting 4x faster with
# libharfbuzz-subset0, see shared/STACK-NOTES.md). Fonts ship with the package.
PDF_PACKAGES="libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 libfontconfig1"

# The real browser the recipients' web page is tested in (Playwright drives /usr/bin/chromium),
# the real terminal the TUI is tested in (tmux), and the independent PDF signature checker
# (poppler's pdfsig).
BROWSER_PACKAGES="chromium tmux poppler-utils"

# libfaketime's command: under `scripts/test --shift-days N`, the openssl the signing tests run
# (a separate program, out of time-machine's reach) sees the shifted day too.
CLOCK_PACKAGES="faketime"

ensure_system_packages() {
    local missing=()
    for package in "$@"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
    done
    if [ ${#missing[@]} -gt 0 ]; then apt_install "${missing[@]}"; fi
}

# ensure_venv [EXTRAS]: create .venv if needed and install the project (editable).
ensure_venv() {
    local extras=${1:-}
    local python=${PYTHON:-python3}
    "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
        echo "Python >= 3.11 is required ($python is $("$python" --version 2>&1))." >&2
        exit 1
    }
    if [ ! -x "$VENV/bin/python" ]; then
        say "creating $VENV"
        if ! "$python" -m venv "$VENV" 2>/dev/null; then
            rm -rf "$VENV"
            apt_install "python3-venv" || apt_install "python3.$("$python" -c 'import sys; print(sys.version_info[1])')-venv"
            "$python" -m venv "$VENV"
        fi
    fi
    # Reinstall only when pyproject.toml or the extras changed.
    local stamp="$VENV/.installed-$(sha256sum "$ROOT/pyproject.toml" | cut -c1-16)-${extras:-base}"
    if [ ! -f "$stamp" ]; then
        say "installing messagerie-securisee${extras:+[$extras]}"
        "$VENV/bin/python" -m pip install -q --upgrade pip
        "$VENV/bin/python" -m pip install -q -e "$ROOT${extras:+[$extras]}"
        rm -f "$VENV"/.installed-*
        touch "$stamp"
    fi
    ensure_source_links
}

# The checkout seen as the package `messagerie` (messagerie.models is models/, …) by every
# tool: pip's editable install maps the names with an import hook that mypy and
# import-linter cannot follow, so a folder of links goes on the venv's path as well.
ensure_source_links() {
    local links="$VENV/messagerie-src/messagerie" site package
    mkdir -p "$links"
    for package in tui screens models letters; do
        ln -sfn "$ROOT/$package" "$links/$package"
    done
    site=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    echo "$VENV/messagerie-src" >"$site/messagerie-src.pth"
}

as_postgres() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi
}

# The tests' own PostgreSQL cluster, beside the machine's: every test database lives for one
# test, so this cluster never waits for the disk (no fsync, no full-page writes, minimal WAL),
# and its files live in memory (tmpfs), where the system's RAM allows. Measured: a database
# cloned from the migrated template cost 0.33 s of CPU, nearly all in the kernel syncing files,
# on a default cluster; without durability, still 0.45 s on this machine's ext4 once the suite
# had run a few times (the kernel looks past each recently deleted inode to create each of
# the clone's ~700 files), and 0.04 s on tmpfs. The suite makes about 250 of them. The server
# is the same PostgreSQL, only its durability differs: its data is lost at reboot, and remade.
TEST_CLUSTER=messagerie_test
TEST_CLUSTER_OPTIONS="-o fsync=off -o full_page_writes=off -o synchronous_commit=off -o wal_level=minimal -o max_wal_senders=0"
TEST_CLUSTER_MEMORY=/dev/shm
TEST_CLUSTER_MEMORY_KB=$((2 * 1024 * 1024))  # its WAL alone may reach 1 GB (max_wal_size)

# test_cluster_dir: where the tests' cluster keeps its files: in memory when /dev/shm is a
# tmpfs with room (a container's is often 64 MB), otherwise PostgreSQL's default folder
# (empty output).
test_cluster_dir() {
    local kind room
    kind=$(stat -f -c %T "$TEST_CLUSTER_MEMORY" 2>/dev/null) || return 0
    room=$(df -k --output=avail "$TEST_CLUSTER_MEMORY" | tail -n 1)
    if [ "$kind" = tmpfs ] && [ "$room" -ge "$TEST_CLUSTER_MEMORY_KB" ]; then
        echo "$TEST_CLUSTER_MEMORY/messagerie-test-postgresql"
    fi
}

# ensure_postgres: start the tests' PostgreSQL cluster (installing PostgreSQL if needed), create
# the test role and database, and export MESSAGERIE_TEST_PG_URL. A URL already set is used as it is.
ensure_postgres() {
    if [ -n "${MESSAGERIE_TEST_PG_URL:-}" ]; then return; fi
    command -v pg_ctlcluster >/dev/null || apt_install postgresql postgresql-client
    local version port status data wanted
    version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
    wanted=$(test_cluster_dir)
    data=$(pg_lsclusters -h | awk -v v="$version" -v c="$TEST_CLUSTER" '$1 == v && $2 == c { print $6 }')
    # A cluster elsewhere (made before it moved to memory), or whose memory a reboot emptied,
    # is made again: it holds only the tests' passing databases.
    if [ -n "$data" ] && { [ "$data" != "${wanted:-$data}" ] || ! as_root test -f "$data/PG_VERSION"; }; then
        say "making the tests' PostgreSQL cluster $version/$TEST_CLUSTER again${wanted:+ in $wanted}"
        as_root pg_dropcluster --stop "$version" "$TEST_CLUSTER"
        data=
    fi
    if [ -z "$data" ]; then
        say "creating the tests' PostgreSQL cluster $version/$TEST_CLUSTER"
        if [ -n "$wanted" ]; then
            as_root rm -rf "$wanted"
            as_root install -d -o postgres -g postgres -m 700 "$wanted"
        fi
        # shellcheck disable=SC2086  # one word per option
        as_root pg_createcluster "$version" "$TEST_CLUSTER" ${wanted:+-d "$wanted"} $TEST_CLUSTER_OPTIONS >/dev/null
    fi
    read -r port status < <(pg_lsclusters -h | awk -v v="$version" -v c="$TEST_CLUSTER" '$1 == v && $2 == c { print $3, $4 }')
    if [ "$status" != "online" ]; then
        say "starting PostgreSQL $version/$TEST_CLUSTER (port $port)"
        as_root pg_ctlcluster "$version" "$TEST_CLUSTER" start
    fi
    for _ in $(seq 50); do
        pg_isready -q -h 127.0.0.1 -p "$port" && break
        sleep 0.2
    done
    as_postgres psql -q -p "$port" -v ON_ERROR_STOP=1 -c "DO \$\$ BEGIN
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'messagerie_test') THEN
            CREATE ROLE messagerie_test LOGIN CREATEDB PASSWORD 'messagerie_test';
        END IF; END \$\$" >/dev/null
    # The row-level security tests create an account's role and a service role.
    as_postgres psql -q -p "$port" -c "ALTER ROLE messagerie_test CREATEROLE" >/dev/null
    if ! as_postgres psql -p "$port" -tAc "SELECT 1 FROM pg_database WHERE datname = 'messagerie_test'" | grep -q 1; then
        as_postgres createdb -p "$port" -O messagerie_test messagerie_test
    fi
    as_postgres psql -q -p "$port" -c "ALTER DATABASE messagerie_test OWNER TO messagerie_test" >/dev/null
    export MESSAGERIE_TEST_PG_URL="postgresql+psycopg://messagerie_test:messagerie_test@127.0.0.1:$port/messagerie_test"
}

# The EICAR-only clamd, shared by scripts/test (MESSAGERIE_TEST_CLAMD) and scripts/demo
# (MESSAGERIE_CLAMD). Its only signature is the EICAR test file's, so it needs no network
# update (see shared/STACK-NOTES.md), and it detects nothing else: a test and demo
# antivirus, never a real one. It keeps running after the script ends, and is reused.
CLAMD_DIR="${TMPDIR:-/tmp}/messagerie-clamd"

clamd_answers() {
    "${PYTHON:-python3}" - "$1" <<'PY' 2>/dev/null
import socket, sys
with socket.socket(socket.AF_UNIX) as s:
    s.settimeout(2)
    s.connect(sys.argv[1])
    s.sendall(b"zPING\0")
    sys.exit(s.recv(16) != b"PONG\0")
PY
}

# start_eicar_clamd: start (or find running) the EICAR-only clamd under $CLAMD_DIR and set
# CLAMD_URL to its address (unix://…). When clamd cannot be installed or started, it says why
# on stderr and returns 1; it never exits (scripts/demo goes on without it).
start_eicar_clamd() {
    local socket="$CLAMD_DIR/clamd.sock"
    CLAMD_URL=""
    ensure_system_packages clamav-daemon || {
        echo "clamd could not be installed (Debian package clamav-daemon)." >&2
        return 1
    }
    if ! clamd_answers "$socket"; then
        say "starting clamd (EICAR signature only, $CLAMD_DIR)"
        mkdir -p "$CLAMD_DIR/db" || return 1
        # The EICAR test string anywhere in a file (.ndb: name, any target, any offset, hex).
        echo "Eicar-Test-Signature:0:*:58354f2150254041505b345c505a58353428505e2937434329377d2445494341522d5354414e444152442d414e544956495255532d544553542d46494c452124482b482a" >"$CLAMD_DIR/db/eicar.ndb" || return 1
        cat >"$CLAMD_DIR/clamd.conf" <<CONF || return 1
LocalSocket $socket
DatabaseDirectory $CLAMD_DIR/db
LogFile $CLAMD_DIR/clamd.log
PidFile $CLAMD_DIR/clamd.pid
TemporaryDirectory $CLAMD_DIR
Foreground yes
User $(id -un)
StreamMaxLength 25M
SelfCheck 0
CONF
        rm -f "$socket"
        # clamd runs in the foreground of a process of our own, detached (setsid) so that it
        # outlives this script: letting clamd daemonize itself made its parent exit with a
        # failure now and then under load, while the daemon started (a race in ClamAV's
        # daemonize_parent_wait, Cisco-Talos/clamav#798). Its output goes to its log, never
        # into a caller's $(…).
        local clamd_pid
        setsid "$(command -v clamd || echo /usr/sbin/clamd)" -c "$CLAMD_DIR/clamd.conf" \
            </dev/null >>"$CLAMD_DIR/clamd.out" 2>&1 &
        clamd_pid=$!
        # Loading takes a second on a quiet machine, over a minute on a busy one (seen under
        # the test suite): wait up to two minutes, unless clamd has already ended.
        for _ in $(seq 600); do
            clamd_answers "$socket" && break
            kill -0 "$clamd_pid" 2>/dev/null || break
            sleep 0.2
        done
        clamd_answers "$socket" || {
            echo "clamd did not start or did not answer on $socket; see $CLAMD_DIR/clamd.log and clamd.out" >&2
            return 1
        }
    fi
    CLAMD_URL="unix://$socket"
}

# clamd_signatures: how many signatures that clamd loaded, from its log ("Loaded 1 signatures.").
clamd_signatures() {
    grep -o 'Loaded [0-9]* signatures' "$CLAMD_DIR/clamd.log" 2>/dev/null | tail -n 1 | tr -dc '0-9'
}

# ensure_clamd (scripts/test): export MESSAGERIE_TEST_CLAMD, the EICAR-only clamd. A value
# already set is used as it is. No clamd, no tests: it exits.
ensure_clamd() {
    if [ -n "${MESSAGERIE_TEST_CLAMD:-}" ]; then return; fi
    start_eicar_clamd || exit 1
    export MESSAGERIE_TEST_CLAMD="$CLAMD_URL"
}

# ensure_demo_clamd (scripts/demo): export MESSAGERIE_CLAMD for the app and say which antivirus
# it is on stderr. The user's own value is kept; otherwise the EICAR-only clamd; when that one
# cannot run, `off` (files kept as « non analysé ») rather than an address that refuses every
# attachment.
ensure_demo_clamd() {
    if [ -n "${MESSAGERIE_CLAMD:-}" ]; then
        say "antivirus: MESSAGERIE_CLAMD=$MESSAGERIE_CLAMD (yours)"
        return
    fi
    if start_eicar_clamd; then
        export MESSAGERIE_CLAMD="$CLAMD_URL"
        local count
        count=$(clamd_signatures || true)
        say "antivirus: demo clamd on $CLAMD_URL with ${count:-?} signature(s), the EICAR test file's only: it detects no real virus. Set MESSAGERIE_CLAMD for a real clamd; stop this one with: kill \$(cat $CLAMD_DIR/clamd.pid)"
    else
        export MESSAGERIE_CLAMD=off
        echo "antivirus: clamd could not be started, so the demo runs with scanning off (MESSAGERIE_CLAMD=off): attachments are accepted unscanned, marked « non analysé »." >&2
    fi
}
