# fin %post: folders with their owners and modes; on a first install the
# unit enabled by the preset policy (Fedora and RHEL start nothing on their
# own) and the next steps said. Safe where systemd is not running.
if command -v systemd-tmpfiles >/dev/null 2>&1; then
    systemd-tmpfiles --create /usr/lib/tmpfiles.d/fin.conf || :
else
    install -d -o root -g fin -m 0750 /etc/fin /etc/fin/conf.d
    install -d -o fin -g fin -m 0750 /var/lib/fin /var/log/fin
fi
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null 2>&1 || :
    if [ "$1" -eq 1 ]; then
        systemctl preset fin.service >/dev/null 2>&1 || :
    fi
fi
if [ "$1" -eq 1 ]; then
    cat <<'MSG'
fin is installed. Start it: sudo systemctl enable --now fin
It serves HTTPS on port 443 with a self-signed certificate.
Next: sudo finctl setup      (the name of this box, ACME certificates)
      sudo finctl user add NAME --role admin
MSG
fi
exit 0
