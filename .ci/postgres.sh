# A throwaway PostgreSQL server for the tests of `ccsqm sync` (crates/cli/tests/sync.rs).
#
# Sourced by `cargo xtask test` (CI's test step, xtask/src/test.rs) or by hand
# (`source .ci/postgres.sh`, then `cargo test ...`): installs PostgreSQL from the
# distribution's packages when its server is missing (Debian: `apt-get install postgresql`),
# creates a cluster in a temporary directory (initdb; as the `postgres` user when run as root,
# since the server refuses to run as root), starts it on a free port of the loopback with trust
# authentication, and exports its URL as CCSQM_TEST_POSTGRES_URL. The server is stopped and its
# directory removed when the shell exits. Without it, the PostgreSQL tests fail, saying
# "skipped" and why (or only say it, with CCSQM_TEST_ALLOW_SKIP=1).

ccsqm_pg_bin() {
    local dir
    for dir in /usr/lib/postgresql/*/bin; do
        if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
            echo "$dir"
        fi
    done | sort -V | tail -n 1
}

ccsqm_pg_start() {
    local bin dir port as_user=()
    bin="$(ccsqm_pg_bin)"
    if [ -z "$bin" ]; then
        if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
            echo "installing PostgreSQL (apt-get install postgresql)"
            apt-get update -qq
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
            bin="$(ccsqm_pg_bin)"
        fi
    fi
    if [ -z "$bin" ]; then
        echo "PostgreSQL is not installed and could not be (apt-get as root): its tests fail," \
            "or say they are skipped with CCSQM_TEST_ALLOW_SKIP=1" >&2
        return 0
    fi
    dir="$(mktemp -d "${TMPDIR:-/tmp}/ccsqm-pg.XXXXXX")"
    if [ "$(id -u)" = 0 ]; then
        # initdb and the server refuse to run as root.
        id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
        chown postgres "$dir"
        as_user=(runuser -u postgres --)
    fi
    # A free port: CCSQM_PG_PORT (`cargo xtask test` picks one), else python3 finds one.
    port="${CCSQM_PG_PORT:-}"
    if [ -z "$port" ]; then
        port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    fi
    "${as_user[@]}" "$bin/initdb" --pgdata "$dir/data" --username postgres --auth trust \
        --encoding UTF8 --no-locale >"$dir/initdb.log" 2>&1 || {
        cat "$dir/initdb.log" >&2
        return 1
    }
    ccsqm_pg_tls "$dir" "${as_user[@]}"
    "${as_user[@]}" "$bin/pg_ctl" --pgdata "$dir/data" --log "$dir/server.log" --wait \
        --options "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off" start >/dev/null || {
        cat "$dir/server.log" >&2
        return 1
    }
    CCSQM_PG_DIR="$dir"
    CCSQM_PG_CTL=("${as_user[@]}" "$bin/pg_ctl" --pgdata "$dir/data" --mode immediate stop)
    export CCSQM_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres"
    trap ccsqm_pg_stop EXIT
    echo "PostgreSQL ($("$bin/postgres" --version)) at $CCSQM_TEST_POSTGRES_URL"
}

# TLS for the tests of `sslmode=require`: a throwaway certificate authority and a certificate
# for 127.0.0.1 signed by it (openssl), `ssl = on`, and a database, ccsqm_tls, that refuses
# connections without TLS. Exports CCSQM_TEST_POSTGRES_CA (the authority's certificate). Without
# openssl the server has no TLS and those tests say they are skipped.
ccsqm_pg_tls() {
    local dir="$1" tls="$1/tls"
    shift
    if ! command -v openssl >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 &&
        [ "$(id -u)" = 0 ]; then
        echo "installing openssl (apt-get install openssl), for the TLS tests"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssl >/dev/null
    fi
    command -v openssl >/dev/null 2>&1 || {
        echo "openssl is missing: PostgreSQL without TLS (the TLS test fails, or says it is skipped with CCSQM_TEST_ALLOW_SKIP=1)" >&2
        return 0
    }
    mkdir -p "$tls"
    (
        cd "$tls" &&
            openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
                -subj "/CN=ccsqm test CA" -keyout ca.key -out ca.pem &&
            openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
                -subj "/CN=127.0.0.1" -keyout server.key -out server.csr &&
            printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >server.ext &&
            openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
                -extfile server.ext -out server.pem
    ) >"$dir/tls.log" 2>&1 || {
        echo "making the test certificates failed: PostgreSQL without TLS" >&2
        cat "$dir/tls.log" >&2
        return 0
    }
    chmod 0600 "$tls/server.key"
    if [ $# -gt 0 ]; then chown -R postgres "$tls"; fi
    printf "ssl = on\nssl_cert_file = '%s'\nssl_key_file = '%s'\n" \
        "$tls/server.pem" "$tls/server.key" >>"$dir/data/postgresql.conf"
    # First match wins: ccsqm_tls takes only TLS connections.
    { echo "hostnossl ccsqm_tls all all reject"; cat "$dir/data/pg_hba.conf"; } >"$dir/hba" &&
        cat "$dir/hba" >"$dir/data/pg_hba.conf"
    export CCSQM_TEST_POSTGRES_CA="$tls/ca.pem"
}

ccsqm_pg_stop() {
    if [ -n "${CCSQM_PG_DIR:-}" ]; then
        "${CCSQM_PG_CTL[@]}" >/dev/null 2>&1 || true
        rm -rf "$CCSQM_PG_DIR"
        CCSQM_PG_DIR=
    fi
}

ccsqm_pg_start
