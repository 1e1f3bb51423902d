"""Who may talk to the screen's server: only the kiosk page itself, on loopback, at its own origin."""

from __future__ import annotations

from collections.abc import Mapping

LOOPBACK_NAMES = ("127.0.0.1", "localhost")
SAFE_METHODS = frozenset({"GET", "HEAD"})


def own_hosts(port: int) -> frozenset[str]:
    return frozenset(f"{name}:{port}" for name in LOOPBACK_NAMES)


def foreign(method: str, headers: Mapping[str, str], port: int) -> str | None:
    """Why a request does not come from the kiosk page (None if it does): a Host that is not the loopback
    address and port (DNS rebinding), an Origin that is not the page's own, a cross-site fetch, or a POST that is
    not same-origin JSON (so a form on another site cannot make one)."""
    hosts = own_hosts(port)
    host = headers.get("host", "")
    if host not in hosts:
        return "foreign host"
    origin = headers.get("origin")
    if origin is not None and origin != f"http://{host}":
        return "foreign origin"
    site = headers.get("sec-fetch-site")
    if site is not None and site not in {"same-origin", "none"}:
        return "cross-site request"
    if method not in SAFE_METHODS:
        if origin is None:
            return "a POST without an Origin"
        if headers.get("content-type", "").split(";")[0].strip() != "application/json":
            return "a POST that is not JSON"
    return None
