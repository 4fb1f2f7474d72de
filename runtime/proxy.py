"""Who the client is, behind a proxy: one rule, `settings.TRUSTED_PROXIES`, for every server.

`X-Forwarded-For` and `X-Forwarded-Proto` are believed only from a peer in TRUSTED_PROXIES
(`DJANGO_TRUSTED_PROXIES`: addresses or networks of the proxies in front of the workers; none
by default). Then the client's address is the right-most address in `X-Forwarded-For` that is
not a trusted proxy (what the proxy saw, whatever a client wrote before it) and the scheme is
the proxy's `X-Forwarded-Proto`. So `REMOTE_ADDR`, which every throttle and the login lockout
count by, and `request.is_secure()`, which the HTTPS redirect and secure cookies trust, follow
the same rule. From anyone else the headers change nothing.

uvicorn's `ProxyHeadersMiddleware` (its public middleware, what `--proxy-headers` installs)
does the work, applied here rather than by the server's flags so that the rule is the app's
setting whatever serves it: the production command turns uvicorn's own handling off
(`--no-proxy-headers`; its default trusts 127.0.0.1).
"""

from typing import Any

from django.conf import settings
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware


def behind_trusted_proxies(application: Any) -> Any:
    """`application`, reading forwarded headers from TRUSTED_PROXIES only (unchanged if none)."""
    proxies: list[str] = settings.TRUSTED_PROXIES
    if not proxies:
        return application
    return ProxyHeadersMiddleware(application, trusted_hosts=proxies)
