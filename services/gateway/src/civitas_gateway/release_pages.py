"""What the pages take from the live release, read at each request so a deployed change shows without a restart:
templates (`site/templates/NAME.html` over the packaged template NAME.html), the front page's text
(`site/front.md`, Markdown with HTML escaped) and static files (`site/static/PATH`, the stylesheet among them),
each falling back to what civitas ships when there is no release or the release has no such file.

A release whose templates do not compile, or whose polls, rules or registrars cannot be read, is refused: every
page answers 503 saying why, which is what fails the deployer's smoke request and rolls the release back.
"""

from __future__ import annotations

import hashlib
import logging
import mimetypes
import re
import threading
from collections.abc import Callable
from pathlib import Path

from jinja2 import BaseLoader, ChoiceLoader, Environment, FileSystemLoader, TemplateError, TemplateNotFound
from markdown_it import MarkdownIt
from markupsafe import Markup
from starlette.responses import Response
from starlette.staticfiles import StaticFiles

from civitas_kernel.live_release import LiveRelease

from civitas_gateway.page_sandbox import PageSandbox, refused_names

log = logging.getLogger("civitas.release")
HERE = Path(__file__).parent
TEMPLATES, STATIC, FRONT = "site/templates/", "site/static/", "site/front.md"
TEMPLATE_NAME = re.compile(r"[a-z0-9_]{1,60}\.html")
# The error page stays civitas's own, so a broken release can still say what is wrong; so do the pages that show a
# voter's secrets (sign-in codes, the two-step secret), which a template could otherwise carry off in a link.
OWN_TEMPLATES = {"problem.html", "signin.html", "account.html", "reset.html", "outbox.html", "outbox_message.html"}
# What a release may serve as a static file: stylesheets, pictures, fonts and text; never a script or a page,
# which would run with a signed-in voter's session.
STATIC_TYPES = {".css": "text/css", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
                ".gif": "image/gif", ".webp": "image/webp", ".ico": "image/x-icon", ".svg": "image/svg+xml",
                ".woff": "font/woff", ".woff2": "font/woff2", ".txt": "text/plain"}
Check = Callable[[LiveRelease], list[str]]  # what in a release cannot be used, each as a sentence

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})


def front_html(text: str) -> Markup:
    """The front page's Markdown as HTML: raw HTML escaped, links only of safe schemes (markdown-it's own check)."""
    return Markup(_markdown.render(text))


class ReleaseLoader(BaseLoader):
    """A template from the release's site/templates/, never one of civitas's own error pages."""

    def __init__(self, release: LiveRelease) -> None:
        self.release = release

    def get_source(self, environment, template):
        if not TEMPLATE_NAME.fullmatch(template) or template in OWN_TEMPLATES:
            raise TemplateNotFound(template)
        data = self.release.read(TEMPLATES + template)
        if data is None:
            raise TemplateNotFound(template)
        return data.decode("utf-8", errors="replace"), None, lambda: True  # a release never changes

    def list_templates(self) -> list[str]:
        return [n for n in self.release.names(TEMPLATES.rstrip("/")) if TEMPLATE_NAME.fullmatch(n)
                and n not in OWN_TEMPLATES]


class ReleasePages:
    """The live release as the pages see it: its template environment, front text, static files and refusal."""

    def __init__(self, releases: Path | None, packaged: Environment, checks: tuple[Check, ...] = ()) -> None:
        self.releases, self.packaged, self.checks = releases, packaged, checks
        self._environments: dict[str | None, PageSandbox] = {}
        self._refusals: dict[str, list[str]] = {}
        self._fronts: dict[str | None, Markup] = {}
        self._lock = threading.Lock()

    def live(self) -> LiveRelease | None:
        return LiveRelease.at(Path("."), releases=self.releases) if self.releases is not None else None

    def environment(self, release: LiveRelease | None) -> PageSandbox:
        commit = release.commit if release else None
        env = self._environments.get(commit)
        if env is None:
            with self._lock:
                if len(self._environments) > 8:
                    self._environments.clear()
                env = self._environments[commit] = self._make(release)
        return env

    def _make(self, release: LiveRelease | None) -> PageSandbox:
        own = FileSystemLoader(HERE / "templates")
        env = PageSandbox(loader=ChoiceLoader([ReleaseLoader(release), own]) if release else own,
                          autoescape=True, auto_reload=False)
        env.globals.update({k: v for k, v in self.packaged.globals.items() if k not in env.globals})
        env.filters.update({k: v for k, v in self.packaged.filters.items() if k not in env.filters})
        env.tests.update({k: v for k, v in self.packaged.tests.items() if k not in env.tests})
        return env

    def refusal(self, release: LiveRelease | None) -> list[str]:
        """Why the release cannot be served (empty: it can), worked out once per release."""
        if release is None:
            return []
        found = self._refusals.get(release.commit)
        if found is None:
            if len(self._refusals) > 64:
                self._refusals.clear()
            found = self._refusals[release.commit] = self._check(release)
            for reason in found:
                log.error("the live release %s is refused: %s", release.commit, reason)
        return found

    def _check(self, release: LiveRelease) -> list[str]:
        env, reasons = self.environment(release), []
        for name in ReleaseLoader(release).list_templates():
            source = release.read(TEMPLATES + name)
            try:
                reasons.extend(refused_names(source.decode("utf-8", errors="replace"), env, TEMPLATES + name))
                env.get_template(name)
            except TemplateError as error:
                reasons.append(f"{TEMPLATES}{name} line {getattr(error, 'lineno', '?')}: {error.message}")
        for check in self.checks:
            reasons.extend(check(release))
        return reasons

    def front(self, release: LiveRelease | None) -> Markup:
        """The front page's text as HTML, rendered once per release (a release never changes)."""
        commit = release.commit if release else None
        html = self._fronts.get(commit)
        if html is None:
            data = release.read(FRONT) if release else None
            text = data.decode("utf-8", errors="replace") if data is not None else (HERE / "front.md").read_text()
            if len(self._fronts) > 8:
                self._fronts.clear()
            html = self._fronts[commit] = front_html(text)
        return html


class ReleaseStatic(StaticFiles):
    """/static/PATH: the live release's site/static/PATH when it has one (of a type it may serve), else civitas's.
    Browsers revalidate every time (no-cache, with an ETag), so a deployed stylesheet shows at the next load."""

    def __init__(self, pages: ReleasePages) -> None:
        super().__init__(directory=HERE / "static")
        self.pages = pages

    async def get_response(self, path: str, scope) -> Response:
        release = self.pages.live()
        suffix = Path(path).suffix.lower()
        data = release.read(STATIC + path) if release and suffix in STATIC_TYPES else None
        if data is None:
            response = await super().get_response(path, scope)
            response.headers["cache-control"] = "no-cache"
            return response
        etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
        headers = {"cache-control": "no-cache", "etag": etag}
        request_headers = dict(scope.get("headers") or [])
        if request_headers.get(b"if-none-match", b"").decode("latin-1") == etag:
            return Response(status_code=304, headers=headers)
        media = STATIC_TYPES.get(suffix) or mimetypes.guess_type(path)[0] or "application/octet-stream"
        return Response(data, media_type=media, headers=headers)


class ReleaseHeader:
    """Every answer says which release served it: `Civitas-Release: <commit>`, or `none` before the first."""

    def __init__(self, app, pages: ReleasePages) -> None:
        self.app, self.pages = app, pages

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        release = self.pages.live()  # read once: the page is drawn from the release its header names
        scope.setdefault("state", {})["release"] = release
        value = (release.commit if release else "none").encode()

        async def send_with_release(message):
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"civitas-release", value)]
            await send(message)

        await self.app(scope, receive, send_with_release)
