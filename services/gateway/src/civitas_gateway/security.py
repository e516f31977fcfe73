"""Security headers on every answer: a Content-Security-Policy without inline script (pages), framing refused,
no MIME sniffing, no referrer leaving the site, and HSTS over HTTPS.

Pages draw only what the site serves (templates, /static, SVG drawn on the server); the API's JSON needs
nothing at all, so its policy allows nothing. /docs loads Swagger UI from its CDN and starts it from
/static/docs.js, so it too runs no inline script.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGE_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
               "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
DOCS_POLICY = ("default-src 'self'; script-src 'self' https://cdn.jsdelivr.net; style-src 'self' https://cdn.jsdelivr.net; "
               "img-src 'self' data: https://fastapi.tiangolo.com; object-src 'none'; base-uri 'none'; "
               "frame-ancestors 'none'")
API_POLICY = "default-src 'none'; frame-ancestors 'none'"
ALWAYS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),  # sign-in links carry codes in their query
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
]
HSTS = (b"strict-transport-security", b"max-age=31536000")


class SecurityHeaders:
    """ASGI middleware: add the headers above to every HTTP answer that does not set them itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        docs = scope["path"] == "/docs"
        https = scope.get("scheme") == "https"

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                html = any(name.lower() == b"content-type" and value.startswith(b"text/html") for name, value in headers)
                policy = DOCS_POLICY if docs else PAGE_POLICY if html else API_POLICY
                added = [*ALWAYS, (b"content-security-policy", policy.encode())] + ([HSTS] if https else [])
                headers += [(name, value) for name, value in added if name not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
