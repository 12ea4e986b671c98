#!/bin/bash
# Boot test only: report what the harness checks on the serial console (one "HHPROBE key: value"
# line each, binary-safe values in base64), open a canary port the firewall must not admit,
# then power off.
set -u
say() { echo "HHPROBE $*" > /dev/console; }
wait_s=${HH_PROBE_WAIT:-300}
say "begin"
for ((i = 0; i < wait_s; i += 5)); do
	if curl -fsS -o /dev/null --max-time 4 http://127.0.0.1:8080/status.json; then break; fi
	sleep 5
done
say "waited: $i"
say "web: $(curl -s -o /dev/null -w '%{http_code}' --max-time 10 http://127.0.0.1:8080/)"
say "hub: $(systemctl is-active homehub.service)"
say "status-page: $(systemctl is-active homehub-status.service)"
say "firstboot-unit: $(systemctl is-active homehub-firstboot.service)"
say "failed: $(systemctl --failed --plain --no-legend | awk '{print $1}' | tr '\n' ' ')"
ss -Htulnp | while read -r proto _state _rq _sq local _peer users; do say "listen: $proto $local ${users:-}"; done
say "nft: $(nft list tables 2>&1 | tr '\n' ' ')"
say "root: $(findmnt -no FSTYPE /)"
say "data: $(findmnt -no SOURCE,FSTYPE /var/lib/homehub | tr -s ' ')"
say "journal-persistent: $(find /var/log/journal -name '*.journal' 2>/dev/null | wc -l)"
say "ssh: $(systemctl is-active ssh.service)"
say "hostname: $(hostname)"
say "boot-files: $(find /boot/firmware -maxdepth 1 -type f -printf '%f ')"
say "firstboot: $(base64 -w0 < /var/lib/homehub/firstboot.json)"
say "page: $(curl -s --max-time 10 http://127.0.0.1:8080/ | base64 -w0)"
say "journal-firstboot: $(journalctl -b -u homehub-firstboot.service --no-pager -o cat | base64 -w0)"
say "journal-hub: $(journalctl -b -u homehub.service --no-pager -o cat | tail -20 | base64 -w0)"
python3 -m http.server --bind 0.0.0.0 9999 > /dev/null 2>&1 &
canary=$!
sleep 2
say "canary: listening"
sleep "${HH_PROBE_CANARY_S:-10}"
kill "$canary"
say "end"
systemctl poweroff
