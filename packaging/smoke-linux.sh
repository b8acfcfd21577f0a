#!/usr/bin/env bash
# Smoke-test a built Switchboard: start it under Xvfb and place a call to SIPp.
#
#   packaging/smoke-linux.sh                       # tests dist/switchboard/switchboard
#   SWITCHBOARD="/tmp/venv/bin/python -m app" packaging/smoke-linux.sh   # a checkout
#
# `switchboard --profile P dial sip:smoke@127.0.0.1:PORT` finds no running instance, so
# it starts the app (direct SIP mode, null audio), which dials SIPp's built-in UAS
# scenario (`sipp -sn uas`). Success: SIPp received our INVITE, answered 200 OK and
# received our ACK. Then a second `dial` must be handed to the running instance and
# exit 0 at once. Needs Xvfb and sipp (apt-get install xvfb sip-tester).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
read -r -a switchboard <<<"${SWITCHBOARD:-$root/dist/switchboard/switchboard}"
timeout_s="${SMOKE_TIMEOUT:-90}"

for tool in Xvfb sipp; do
  command -v "$tool" >/dev/null || { echo "smoke: $tool is not installed" >&2; exit 2; }
done

work="$(mktemp -d "${TMPDIR:-/tmp}/switchboard-smoke.XXXXXX")"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  sleep 0.5
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  [ "${KEEP_SMOKE:-0}" = 1 ] && echo "kept $work" || rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  "${PYTHON:-python3}" - <<'PY'
import socket
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
PY
}

display=""
for n in $(seq 120 199); do
  if [ ! -e "/tmp/.X11-unix/X$n" ] && [ ! -e "/tmp/.X$n-lock" ]; then display=":$n"; break; fi
done
[ -n "$display" ] || { echo "smoke: no free X display" >&2; exit 2; }
Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp >"$work/xvfb.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -e "/tmp/.X11-unix/X${display#:}" ] && break; sleep 0.1; done

sipp_port="$(free_port)"
our_port="$(free_port)"
sipp -sn uas -i 127.0.0.1 -p "$sipp_port" -m 1 -nostdin -trace_msg \
  -message_file "$work/sipp-messages.log" -trace_err -error_file "$work/sipp-errors.log" \
  >"$work/sipp.out" 2>&1 &
pids+=($!)

profile="$work/profile"
mkdir -p "$profile"
cat >"$profile/config.toml" <<TOML
[sip]
mode = "direct"
listen_address = "127.0.0.1"
port = $our_port

[phone]
audio = "null"

[ui]
start_hidden = false
TOML

export DISPLAY="$display" QT_QPA_PLATFORM=xcb
export QTWEBENGINE_CHROMIUM_FLAGS="${QTWEBENGINE_CHROMIUM_FLAGS:-} --disable-gpu"
if [ "$(id -u)" = 0 ]; then
  export QTWEBENGINE_CHROMIUM_FLAGS="$QTWEBENGINE_CHROMIUM_FLAGS --no-sandbox"
fi

target="sip:smoke@127.0.0.1:$sipp_port"
start=$(date +%s)
"${switchboard[@]}" --profile "$profile" --log-format json dial "$target" \
  >"$work/app.out" 2>"$work/app.err" &
app_pid=$!
pids+=("$app_pid")

ok=0
for _ in $(seq $((timeout_s * 5))); do
  if ! kill -0 "$app_pid" 2>/dev/null; then
    echo "smoke: the app exited early" >&2; break
  fi
  if [ -s "$work/sipp-messages.log" ] && grep -q "^ACK sip:" "$work/sipp-messages.log"; then
    ok=1; break
  fi
  sleep 0.2
done

if [ "$ok" = 1 ]; then
  echo "smoke: SIPp received INVITE, answered and got ACK after $(( $(date +%s) - start )) s"
  # The app is running now: a second dial must be forwarded to it and exit at once.
  if timeout 20 "${switchboard[@]}" --profile "$profile" dial "tel:+358401234567" \
      >"$work/dial2.out" 2>&1; then
    echo "smoke: a second 'switchboard dial' was handed to the running instance"
  else
    echo "smoke: the second dial was not forwarded" >&2; ok=0
  fi
fi

if [ "$ok" != 1 ]; then
  echo "--- app stderr" >&2; tail -n 40 "$work/app.err" >&2 || true
  echo "--- app stdout" >&2; tail -n 40 "$work/app.out" >&2 || true
  echo "--- sipp" >&2; tail -n 20 "$work/sipp.out" "$work/sipp-errors.log" >&2 2>/dev/null || true
  exit 1
fi
echo "smoke: passed"
