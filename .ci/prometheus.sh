# Prometheus' own tools for the tests of `ccsqm sync --metrics` (crates/cli/tests/service.rs):
# `promtool` (check metrics, config and rules) and `prometheus` (a real server scraping a
# running watch; each test starts its own, on a free port with a temporary configuration and
# storage).
#
# Sourced by `cargo xtask test` (CI's test step, xtask/src/test.rs) or by hand: installs
# Debian's `prometheus` package when they are missing and the user is root, and stops the
# package's own service (which would hold port 9090 and scrape nothing of ours). Without them,
# those tests fail saying "skipped" and why (or only say it, with CCSQM_TEST_ALLOW_SKIP=1).

ccsqm_prometheus_install() {
    if command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1; then
        return 0
    fi
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        echo "installing Prometheus (apt-get install prometheus)"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus >/dev/null
        # The package's service is not ours: stopped, and not started at boot.
        if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
            systemctl disable --now prometheus >/dev/null 2>&1 || true
        elif command -v service >/dev/null 2>&1; then
            service prometheus stop >/dev/null 2>&1 || true
        fi
    fi
    if ! command -v promtool >/dev/null 2>&1; then
        echo "Prometheus is not installed and could not be (apt-get as root): the tests of" \
            "--metrics fail, or say they are skipped with CCSQM_TEST_ALLOW_SKIP=1" >&2
    fi
    return 0
}

ccsqm_prometheus_install
