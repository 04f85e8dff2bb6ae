# fin %preun: on erase ($1 = 0, not on upgrade) stop and disable the unit.
if [ "$1" -eq 0 ] && [ -d /run/systemd/system ]; then
    systemctl --no-reload disable --now fin.service >/dev/null 2>&1 || :
fi
exit 0
