# shellcheck shell=bash
# Shared steps of ./setup/run and ./setup/test.
#
# Every step checks what is already there and does only what is missing, so a
# second run reuses the venv, the unpacked Odoo and the databases. A step that
# cannot be done stops the script with the step's name and what to do next.

set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LOCAL="$REPO/.local"                 # downloads, unpacked packages, logs, filestore
VENV="$REPO/.venv"
PY="$VENV/bin/python"
ODOO_CONF=${ODOO_CONF:-"$REPO/odoo.conf"}
ODOO_ROOT="$LOCAL/odoo-root"         # Debian's odoo-19 and its web assets, unpacked
SUITE_MODULES=${SUITE_MODULES:-integration_base,integration_mes,integration_cmms,integration_edi}
# Installed in the test database only: test-only addons from addons/.
TEST_ONLY_MODULES=${TEST_ONLY_MODULES:-integration_test_connector}
PYTHON=${PYTHON:-python3.11}

# Debian packages unpacked beside odoo-19: the web client's JavaScript and
# fonts, which the DFSG package only links to. Font Awesome and Inconsolata
# must be bookworm's: later versions lack the file names Odoo links to.
# Montserrat is only in sid; the others work from either suite.
ODOO_ASSET_PACKAGES="libjs-jquery libjs-jquery-form libjs-underscore fonts-font-awesome/bookworm
  fonts-inconsolata/bookworm fonts-montserrat fonts-roboto-unhinted fonts-ocr-b fonts-glyphicons-halflings"

STEP="start"
# An unexpected failure still names its step (only where errexit is on).
trap '[[ $- == *e* ]] && echo "setup: FAILED in step '"'"'$STEP'"'"' (line $LINENO: $BASH_COMMAND)" >&2' ERR
step() { STEP="$1"; echo "==> $1"; }
fail() {
    echo "setup: FAILED in step '$STEP': $1" >&2
    [ $# -gt 1 ] && echo "setup: what to do: $2" >&2
    exit 1
}
is_root() { [ "$(id -u)" -eq 0 ]; }

# Install Debian package $1 into the system (for $2, said in the messages).
apt_install() {
    is_root || fail "$1 is not installed and this user cannot install it" \
        "run 'sudo apt-get install $1' once, then run this command again"
    echo "    installing Debian's $1 package ($2)"
    apt-get update -qq >/dev/null \
        || fail "'apt-get update' failed" "check that Debian's package archive is reachable"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1" >/dev/null \
        || fail "'apt-get install $1' failed" "check the network and free disk space (df -h)"
}

# --- PostgreSQL ---------------------------------------------------------------

ensure_postgres() {
    step "PostgreSQL server"
    if ! command -v pg_lsclusters >/dev/null || [ -z "$(pg_lsclusters -h 2>/dev/null)" ]; then
        apt_install postgresql "the database server"
    fi
    local version name status
    read -r version name _ status _ < <(pg_lsclusters -h | head -n 1)
    if [ "$status" != "online" ]; then
        echo "    starting cluster $version/$name"
        if is_root; then
            pg_ctlcluster "$version" "$name" start
        else
            sudo pg_ctlcluster "$version" "$name" start
        fi || fail "cannot start PostgreSQL cluster $version/$name" \
            "see /var/log/postgresql/postgresql-$version-$name.log"
    fi
    local role
    role=$(id -un)
    if ! psql -d postgres -tAc "select 1" >/dev/null 2>&1; then
        echo "    creating PostgreSQL role '$role'"
        local create="CREATE ROLE \"$role\" LOGIN CREATEDB"
        if is_root; then
            runuser -u postgres -- psql -q -d postgres -c "$create"
        else
            sudo -u postgres psql -q -d postgres -c "$create"
        fi || fail "cannot create the PostgreSQL role '$role'" \
            "create it by hand: sudo -u postgres createuser --createdb $role"
    fi
}

db_exists() {
    [ "$(psql -d postgres -tAc "select 1 from pg_database where datname = '$1'")" = "1" ]
}

# Number of suite modules installed in database $1 (0 when it is not an Odoo database).
installed_suite_modules() {
    local names
    names="'${SUITE_MODULES//,/\',\'}'"
    psql -d "$1" -tAc "select count(*) from ir_module_module
                       where state = 'installed' and name in ($names)" 2>/dev/null || echo 0
}

# --- Odoo 19.0 from Debian ----------------------------------------------------

# The URI of the Debian archive this machine's apt already uses, read from its
# sources so that no archive host is written into the repository.
debian_archive_uri() {
    local codename
    codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
    {
        # deb822 files: a "URIs:" line followed by "Suites:" in the same stanza.
        cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk -v c="$codename" '
            /^URIs:/ { uri = $2 }
            /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == c) print uri }
            /^$/ { uri = "" }'
        # one-line format: deb [options] URI suite components
        cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk -v c="$codename" '
            $1 == "deb" { sub(/\[[^]]*\] */, ""); if ($3 == c) print $2 }'
    } | grep -v -- '-security' | head -n 1 || true
}

fetch_debian_odoo() {
    local apt_dir="$LOCAL/apt" uri
    command -v apt-get >/dev/null || fail "apt-get is not available to fetch Odoo" \
        "use a Debian machine, or set ODOO_SRC to an Odoo 19.0 source checkout"
    uri=$(debian_archive_uri)
    [ -n "$uri" ] || fail "no Debian archive found in this machine's apt sources" \
        "add Debian's archive to /etc/apt/sources.list, or set ODOO_SRC"
    mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial" "$apt_dir/debs"
    # A private apt configuration: the system's sources and lists stay untouched.
    cat > "$apt_dir/sources.list" <<EOF
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri bookworm main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri sid main
EOF
    local apt_opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
                    -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache::Archives=$apt_dir/archives"
                    -o Debug::NoLocking=1 -o APT::Sandbox::User=root -qq)
    echo "    reading the package lists of Debian bookworm and sid"
    apt-get "${apt_opts[@]}" update >/dev/null \
        || fail "'apt-get update' of the private Odoo sources failed" \
            "check that Debian's package archive is reachable"
    local packages=(odoo-19/sid)
    local pkg
    for pkg in $ODOO_ASSET_PACKAGES; do packages+=("$pkg"); done
    echo "    downloading ${packages[*]}"
    (cd "$apt_dir/debs" && apt-get "${apt_opts[@]}" download "${packages[@]}") \
        || fail "downloading Odoo's Debian packages failed" "check the network and free disk space (df -h)"
    rm -rf "$ODOO_ROOT.tmp"
    mkdir -p "$ODOO_ROOT.tmp"
    local deb
    for deb in "$apt_dir"/debs/*.deb; do
        dpkg-deb -x "$deb" "$ODOO_ROOT.tmp" || fail "cannot unpack $deb" "check free disk space (df -h)"
    done
    rm -rf "$ODOO_ROOT" && mv "$ODOO_ROOT.tmp" "$ODOO_ROOT"
    rm -rf "$apt_dir/debs"
}

# Copy the unpacked odoo package into the venv's site-packages as hard links
# (fast, no extra disk), and turn the package's symlinks to web assets into
# real files: their relative targets only resolve inside the unpacked root.
install_debian_odoo_into_venv() {
    local dist="$ODOO_ROOT/usr/lib/python3/dist-packages" site link target
    site=$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    rm -rf "$site/odoo" "$site"/odoo-*.egg-info
    cp -al "$dist/odoo" "$site/odoo" 2>/dev/null || cp -a "$dist/odoo" "$site/odoo"
    while IFS= read -r -d '' link; do
        target=$(readlink -f "$dist/odoo/${link#"$site/odoo/"}") || true
        [ -f "$target" ] || fail "web asset ${link#"$site/"} points to a missing file" \
            "delete $ODOO_ROOT and run again to fetch the asset packages"
        ln -f "$target" "$link" 2>/dev/null || cp -f --remove-destination "$target" "$link"
    done < <(find "$site/odoo" -type l -print0)
    cp -a "$dist/odoo-19.0.egg-info" "$site/"
}

# Files that Debian's DFSG package leaves out although an asset bundle lists
# them: without them the web client's JavaScript bundle fails and every page
# stays blank. Each gets an empty placeholder (the feature it serves, a video
# call background blur, is then unavailable).
ODOO_MISSING_ASSETS="mail/static/lib/selfie_segmentation/selfie_segmentation.js"

ensure_web_client_files() {
    local addons asset
    addons=$("$PY" -c 'import importlib.util as u; print(u.find_spec("odoo").submodule_search_locations[0])')/addons \
        || fail "cannot find Odoo in $VENV" "delete .venv and run again"
    for asset in $ODOO_MISSING_ASSETS; do
        if [ ! -e "$addons/$asset" ]; then
            mkdir -p "$(dirname "$addons/$asset")"
            echo "/* Placeholder: not shipped in Debian's odoo-19 package (see setup/lib/common.sh). */" \
                > "$addons/$asset"
        fi
    done
}

# --- Python environment -------------------------------------------------------

# Whether pip sees Odoo 19.0 in the venv (and so OCA wheels resolve against it).
odoo_in_venv() {
    "$VENV/bin/pip" show odoo 2>/dev/null | grep '^Version: 19\.0' >/dev/null
}

ensure_venv() {
    step "Python environment (.venv)"
    if [ ! -x "$PY" ]; then
        command -v "$PYTHON" >/dev/null || PYTHON=python3
        "$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] < (3, 10))' \
            || fail "$PYTHON is older than 3.10, which Odoo 19 needs" "set PYTHON to a Python 3.11 interpreter"
        "$PYTHON" -m venv "$VENV" || fail "cannot create $VENV" "install python3-venv"
    fi

    step "Odoo 19.0"
    if [ -n "${ODOO_SRC:-}" ]; then
        if [ "$("$VENV/bin/pip" show odoo 2>/dev/null | awk '/^Location/ {print $2}')" = "" ] ||
           ! "$PY" -c 'import odoo, os, sys; sys.exit(not os.path.realpath(odoo.__path__[0]).startswith(os.path.realpath(sys.argv[1])))' "$ODOO_SRC" 2>/dev/null; then
            echo "    pip install -e $ODOO_SRC"
            "$VENV/bin/pip" install -q --no-deps -e "$ODOO_SRC" \
                || fail "'pip install -e $ODOO_SRC' failed" "ODOO_SRC must be an Odoo 19.0 source checkout"
        fi
    elif ! odoo_in_venv; then
        [ -f "$ODOO_ROOT/usr/lib/python3/dist-packages/odoo/release.py" ] || fetch_debian_odoo
        echo "    placing Odoo into the venv"
        install_debian_odoo_into_venv
    fi

    step "Python dependencies (requirements.txt)"
    local stamp="$VENV/.requirements.sha256" sum
    sum=$(sha256sum "$REPO/requirements.txt" | cut -d' ' -f1)
    if [ "$(cat "$stamp" 2>/dev/null)" != "$sum" ]; then
        # (pip's warnings about absent local index folders are dropped; errors are not)
        "$VENV/bin/pip" install -q --disable-pip-version-check -r "$REPO/requirements.txt" \
            2> >(grep -v 'is ignored: it is neither a file nor a directory' >&2) \
            || fail "'pip install -r requirements.txt' failed" "read pip's error above; check the network"
        echo "$sum" > "$stamp"
    fi
    odoo_in_venv || fail "pip does not see Odoo 19.0 in $VENV" "delete .venv and run again"
    ensure_web_client_files
    ensure_odoo_command
}

# The `odoo` command in the venv. The prefork server starts its websocket
# process again with sys.argv[0], which must be a script: with `python -m
# odoo` it would be odoo/__main__.py, which cannot run on its own.
ODOO_BIN="$VENV/bin/odoo"
ensure_odoo_command() {
    [ -x "$ODOO_BIN" ] && return 0
    printf '#!%s\nfrom odoo.cli.command import main\n\nmain()\n' "$PY" > "$ODOO_BIN"
    chmod +x "$ODOO_BIN"
}

# --- Configuration ------------------------------------------------------------

ensure_config() {
    step "Configuration ($(basename "$ODOO_CONF"))"
    if [ ! -f "$ODOO_CONF" ]; then
        local master_key metrics_token
        master_key=$("$PY" -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')
        metrics_token=$("$PY" -c 'import secrets; print(secrets.token_urlsafe(32))')
        sed -e "s#@REPO@#$REPO#g" -e "s#@MASTER_KEY@#$master_key#" -e "s#@METRICS_TOKEN@#$metrics_token#" \
            "$REPO/odoo.conf.example" > "$ODOO_CONF"
        chmod 600 "$ODOO_CONF"
        echo "    created $ODOO_CONF from odoo.conf.example"
    fi
    mkdir -p "$LOCAL/data" "$LOCAL/log"
}

# Run Odoo with the project's configuration.
run_odoo() { "$ODOO_BIN" -c "$ODOO_CONF" "$@"; }

# Odoo's browser tests drive a headless Chromium; without one they are skipped,
# and a skipped test proves nothing.
ensure_browser() {
    step "Chromium for the browser tests"
    command -v chromium >/dev/null || command -v chromium-browser >/dev/null && return 0
    apt_install chromium "the browser tests"
}

# The broker tests start a mosquitto and a RabbitMQ node of their own, on free
# ports in a temporary folder (integration_base/tests/brokers.py): only the
# programs are needed. The services the
# packages would start are kept from starting (policy-rc.d, when the machine
# has none), and stopped should they have started anyway.
ensure_counterparts() {
    step "Message brokers for the transport tests (mosquitto, rabbitmq-server)"
    local missing=() package policy=/usr/sbin/policy-rc.d own_policy="" status=0
    [ -x /usr/sbin/mosquitto ] || missing+=(mosquitto)
    [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || missing+=(rabbitmq-server)
    command -v openssl >/dev/null || missing+=(openssl)  # makes the certificate of the mqtts:// test
    [ ${#missing[@]} -gt 0 ] || return 0
    if is_root && [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && own_policy=1
    fi
    (for package in "${missing[@]}"; do apt_install "$package" "a broker the transport tests start"; done) \
        || status=$?
    [ -z "$own_policy" ] || rm -f "$policy"
    [ "$status" -eq 0 ] || exit "$status"
    for package in "${missing[@]}"; do
        service "$package" stop >/dev/null 2>&1 || true
    done
}

ensure_all() {
    ensure_postgres
    ensure_venv
    ensure_config
    ensure_counterparts
}

# A fingerprint of the suite's module sources, to know when a database needs
# its modules updated.
suite_fingerprint() {
    (cd "$REPO" && find integration_* addons -type f -not -path '*/__pycache__/*' -print0 \
        | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
}

# Install the suite into database $1 (created when missing), or update it when
# the module sources changed since the last run. Extra arguments go to Odoo.
ensure_suite_database() {
    local db="$1" modules="$SUITE_MODULES" stamp fingerprint count
    shift
    stamp="$LOCAL/state/$db.modules.sha256"
    fingerprint=$(suite_fingerprint)
    mkdir -p "$LOCAL/state"
    count=$(installed_suite_modules "$db")
    if [ "$count" -lt "$(tr ',' '\n' <<<"$modules" | wc -l)" ]; then
        echo "    installing $modules into $db (takes a minute or two)"
        run_odoo -d "$db" -i "$modules" --stop-after-init "$@" >"$LOCAL/log/install-$db.log" 2>&1 \
            || fail "installing the suite into $db failed" "read $LOCAL/log/install-$db.log"
    elif [ "$(cat "$stamp" 2>/dev/null)" != "$fingerprint" ]; then
        echo "    module sources changed: updating $modules in $db"
        run_odoo -d "$db" -u "$modules" --stop-after-init >"$LOCAL/log/update-$db.log" 2>&1 \
            || fail "updating the suite in $db failed" "read $LOCAL/log/update-$db.log"
    fi
    echo "$fingerprint" > "$stamp"
}

# The value of an [options] key in the configuration file.
config_value() {
    awk -F'=' -v key="$1" '$1 ~ "^[ \t]*" key "[ \t]*$" { gsub(/[ \t]/, "", $2); print $2; exit }' "$ODOO_CONF"
}
