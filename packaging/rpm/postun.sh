# fin %postun: after an upgrade ($1 >= 1) restart a running daemon on the
# new binary. The data in /var/lib/fin stays on erase; a changed
# /etc/fin/fin.toml is kept as fin.toml.rpmsave.
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null 2>&1 || :
    if [ "$1" -ge 1 ]; then
        systemctl try-restart fin.service >/dev/null 2>&1 || :
    fi
fi
exit 0
