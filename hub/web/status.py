"""A minimal status page: sensors, the first-boot result and its errors, the doctor's checks.

``GET /`` is HTML for a phone; ``GET /status.json`` is the same snapshot for ``homehub doctor``.
The snapshot comes from a ``StatusProvider`` the app supplies; it must hold no secrets,
identities or audio, because anyone on the home LAN can read this page.
"""

from __future__ import annotations

import html
import json
import logging
from typing import Final, Protocol

from aiohttp import web

_LOGGER = logging.getLogger(__name__)

REFRESH_S: Final = 30
"""The page reloads itself this often: sensors come and go while a technician watches."""
_LEVEL_MARK: Final = {"ok": "OK", "warn": "Check", "fail": "Problem"}


class StatusProvider(Protocol):
    """Whatever can describe the hub right now."""

    def snapshot(self) -> dict[str, object]:
        """Keys the page knows: sensors, firstboot, errors, doctor; others are listed as-is."""
        ...


def create_app(status: StatusProvider) -> web.Application:
    """The aiohttp application serving the status page."""
    app = web.Application()

    async def page(_request: web.Request) -> web.Response:
        return web.Response(text=render(status.snapshot()), content_type="text/html")

    async def as_json(_request: web.Request) -> web.Response:
        return web.json_response(status.snapshot(), dumps=lambda o: json.dumps(o, default=str))

    app.router.add_get("/", page)
    app.router.add_get("/status.json", as_json)
    return app


def render(snap: dict[str, object]) -> str:
    """The snapshot as a small self-contained HTML page (no scripts, no external assets)."""
    parts = [
        _errors(snap.get("errors")),
        _sensors(snap.get("sensors")),
        _doctor(snap.get("doctor")),
    ]
    parts.append(_firstboot(snap.get("firstboot")))
    known = {"errors", "sensors", "doctor", "firstboot"}
    extra = {k: v for k, v in snap.items() if k not in known}
    if extra:
        rows = "".join(
            f"<tr><th>{_e(k)}</th><td>{_e(_plain(v))}</td></tr>" for k, v in extra.items()
        )
        parts.append(f"<h2>Hub</h2><table>{rows}</table>")
    body = "\n".join(p for p in parts if p)
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width,initial-scale=1">'
        f'<meta http-equiv=refresh content="{REFRESH_S}"><title>homehub</title>'
        "<style>body{font-family:sans-serif;margin:1em;max-width:40em}"
        ".fail{color:#a00}.warn{color:#a60}.ok{color:#060}td,th{padding:.2em .6em;"
        "text-align:left;vertical-align:top}</style></head><body><h1>homehub</h1>\n"
        f"{body}\n</body></html>\n"
    )


def _errors(errors: object) -> str:
    if not isinstance(errors, list) or not errors:
        return ""
    items = "".join(f"<li>{_e(str(err))}</li>" for err in errors)
    return f'<h2 class=fail>Errors</h2><ul class="fail errors">{items}</ul>'


def _sensors(sensors: object) -> str:
    if not isinstance(sensors, dict):
        return ""
    if not sensors:
        return "<h2>Sensors</h2><p>No sensors found yet.</p>"
    rows = []
    for name, raw in sorted(sensors.items()):
        info = raw if isinstance(raw, dict) else {}
        state = str(info.get("state", "?"))
        error = info.get("error") or ""
        rows.append(
            f"<tr><td>{_e(str(name))}</td><td>{_e(str(info.get('room') or ''))}</td>"
            f"<td class={'ok' if state in ('connected', 'up') else 'warn'}>{_e(state)}</td>"
            f"<td>{_e(str(error))}</td></tr>"
        )
    head = "<tr><th>Sensor</th><th>Room</th><th>State</th><th>Last error</th></tr>"
    return f"<h2>Sensors</h2><table>{head}{''.join(rows)}</table>"


def _doctor(checks: object) -> str:
    if not isinstance(checks, list) or not checks:
        return ""
    rows = []
    for check in checks:
        if not isinstance(check, dict):
            continue
        level = str(check.get("level", "warn"))
        level = level if level in _LEVEL_MARK else "warn"
        advice = check.get("advice") if level != "ok" else ""
        rows.append(
            f"<tr><td class={level}>{_LEVEL_MARK[level]}</td><td>{_e(str(check.get('name')))}</td>"
            f"<td>{_e(str(check.get('message', '')))}"
            f"{'<br><em>' + _e(str(advice)) + '</em>' if advice else ''}</td></tr>"
        )
    return f"<h2>Checks</h2><table>{''.join(rows)}</table>"


def _firstboot(result: object) -> str:
    if not isinstance(result, dict):
        return ""
    ok = bool(result.get("ok"))
    applied = result.get("applied") or []
    items = "".join(f"<li>{_e(str(a))}</li>" for a in applied) if isinstance(applied, list) else ""
    state = "<span class=ok>applied</span>" if ok else "<span class=fail>not applied</span>"
    when = _e(str(result.get("time", "?")))
    return f"<h2>First boot</h2><p>Configuration {state} at {when}.</p><ul>{items}</ul>"


def _plain(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)


def _e(text: str) -> str:
    return html.escape(text, quote=True)
