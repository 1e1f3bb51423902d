"""Who may talk to the dashboard: browsers at the dashboard's own HTTPS origin, never a page of another site."""

from __future__ import annotations

from collections.abc import Mapping

SAFE_METHODS = frozenset({"GET", "HEAD"})


def foreign(method: str, headers: Mapping[str, str], hosts: frozenset[str]) -> str | None:
    """Why a request does not come from the dashboard's own page (None if it does): a Host not among the
    dashboard's names (DNS rebinding), an Origin that is not `https://` that host, a cross-site fetch, or a POST
    without an Origin or not JSON (so a form on another site cannot make one)."""
    host = headers.get("host", "")
    if host not in hosts:
        return "foreign host"
    origin = headers.get("origin")
    if origin is not None and origin != f"https://{host}":
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


def own_hosts(names: tuple[str, ...], port: int) -> frozenset[str]:
    """The Host header values the dashboard answers: each name with the port (and bare, on 443)."""
    hosts = {f"{name}:{port}" for name in names}
    if port == 443:
        hosts |= set(names)
    return frozenset(hosts)
