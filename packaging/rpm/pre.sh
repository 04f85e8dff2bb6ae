# fin %pre: the system user and group before the files are laid down (they
# own some); on an upgrade, a pre-upgrade backup by the running daemon
# before the files are replaced (a failed one stops the upgrade). $1: 1 on
# install, 2 on upgrade. packaging/build.sh puts the lines of
# systemd/fin.sysusers into the here-document (the file is not on disk yet).
# The admin socket the daemon listens on: admin.socket of the configuration
# when set there, else the default.
fin_socket() {
    sed -n 's/^[[:space:]]*socket[[:space:]]*=[[:space:]]*"\(.*\)".*/\1/p' /etc/fin/fin.toml 2>/dev/null | tail -n 1 | grep . || echo /run/fin/admin.sock
}
if command -v systemd-sysusers >/dev/null 2>&1; then
    systemd-sysusers --replace=/usr/lib/sysusers.d/fin.conf - <<'SYSUSERS'
@SYSUSERS@
SYSUSERS
elif ! getent passwd fin >/dev/null; then
    getent group fin >/dev/null || groupadd --system fin
    useradd --system --gid fin --home-dir /var/lib/fin --no-create-home \
        --shell /usr/sbin/nologin --comment "fin personal-finance daemon" fin
fi
if [ "$1" -ge 2 ] && command -v finctl >/dev/null 2>&1 && [ "${FIN_SKIP_PRE_UPGRADE_BACKUP:-}" != "1" ]; then
    rc=0
    finctl --socket "$(fin_socket)" upgrade prepare || rc=$?
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 3 ]; then
        echo "fin: the pre-upgrade backup failed (finctl exit $rc), so the upgrade stops here; see 'finctl status', or set FIN_SKIP_PRE_UPGRADE_BACKUP=1" >&2
        exit 1
    fi
fi
exit 0
