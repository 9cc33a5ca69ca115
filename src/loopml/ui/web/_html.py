"""HTML building blocks of the web UI and the report: escaping, the page shell, tables.

Every string that comes from the store or the spec goes through :func:`e`; the helpers
that take ``html`` arguments expect markup already built from escaped parts.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from datetime import datetime
from importlib import resources
from urllib.parse import quote, urlencode

__all__ = [
    "CSS_PATH",
    "Cell",
    "Row",
    "definitions",
    "e",
    "fmt",
    "link",
    "page",
    "pages_nav",
    "stylesheet",
    "table",
    "url",
    "when",
]

CSS_PATH = "/static/ui.css"
_NAV = (("/", "runs"), ("/models", "registry"), ("/monitor", "monitoring"))


def stylesheet() -> str:
    """Return the UI's CSS, a file of the installed package."""
    return resources.files("loopml.ui.web").joinpath("ui.css").read_text(encoding="utf-8")


def e(text: object) -> str:
    """Return ``text`` HTML-escaped, quotes included (safe in attributes too)."""
    return html.escape(str(text), quote=True)


def url(*parts: object, **query: object) -> str:
    """Return an escaped path of percent-encoded ``parts``, with the non-None ``query``."""
    path = "/" + "/".join(quote(str(p), safe="") for p in parts)
    given = {k: v for k, v in query.items() if v is not None}
    return e(path + (f"?{urlencode(given)}" if given else ""))


def link(href: str, text: object) -> str:
    """Return an anchor; ``href`` is already escaped (from :func:`url`)."""
    return f"<a href='{href}'>{e(text)}</a>"


def fmt(value: float | None, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def when(at: datetime | None) -> str:
    return "-" if at is None else at.strftime("%Y-%m-%d %H:%M:%S")


class Cell:
    """A table cell: markup plus whether it holds a number (right-aligned)."""

    __slots__ = ("html", "num")

    def __init__(self, html: str, *, num: bool = False) -> None:
        self.html = html
        self.num = num


Row = tuple[Sequence[Cell | str], str]
"""A table row: its cells, and its CSS class ("" for none)."""


def table(
    head: Sequence[str],
    rows: Sequence[Row],
    *,
    caption: str = "",
    numeric: frozenset[str] = frozenset(),
    head_links: Mapping[str, str] | None = None,
) -> str:
    """Return a table; ``head`` is escaped here, each row is ``(cells, css class)``.

    A plain string cell is escaped; a :class:`Cell` is markup. Columns named in
    ``numeric`` are right-aligned; those in ``head_links`` link their head to the
    (escaped) address given.
    """
    links = head_links or {}
    ths = "".join(
        ("<th class='num'>" if h in numeric else "<th>")
        + (link(links[h], h) if h in links else e(h))
        + "</th>"
        for h in head
    )
    body = []
    for cells, css in rows:
        tds = []
        for name, cell in zip(head, cells, strict=True):
            markup = cell.html if isinstance(cell, Cell) else e(cell)
            num = name in numeric or (isinstance(cell, Cell) and cell.num)
            tds.append(f"<td class='num'>{markup}</td>" if num else f"<td>{markup}</td>")
        klass = f" class='{e(css)}'" if css else ""
        body.append(f"<tr{klass}>{''.join(tds)}</tr>")
    cap = f"<caption>{caption}</caption>" if caption else ""
    return (
        f"<table>{cap}<thead><tr>{ths}</tr></thead>\n<tbody>\n"
        + "\n".join(body)
        + "\n</tbody></table>"
    )


def definitions(items: Mapping[str, str]) -> str:
    """Return a definition list; keys are escaped, values are markup."""
    return "<dl>" + "".join(f"<dt>{e(k)}</dt><dd>{v}</dd>" for k, v in items.items()) + "</dl>"


def pages_nav(base: str, page: int, *, more: bool, **query: object) -> str:
    """Return previous / next links of a paginated list (``page`` counts from 1)."""
    links = []
    if page > 1:
        links.append(link(f"{e(base)}?{e(urlencode({**query, 'page': page - 1}))}", "« newer"))
    if more:
        links.append(link(f"{e(base)}?{e(urlencode({**query, 'page': page + 1}))}", "older »"))
    return f"<p class='pages'>{''.join(links)} page {page}</p>" if links else ""


def page(title: str, body: str, *, inline_css: bool = False) -> str:
    """Return a whole page: the navigation, then ``body`` (markup); ``title`` is escaped.

    ``inline_css`` puts the style in the page (a report that loads nothing) instead of
    linking the app's stylesheet.
    """
    style = (
        f"<style>{stylesheet()}</style>"
        if inline_css
        else f"<link rel='stylesheet' href='{CSS_PATH}'>"
    )
    nav = "" if inline_css else "<nav>" + "".join(link(h, t) for h, t in _NAV) + "</nav>"
    return (
        "<!doctype html>\n<html lang='en'>\n<head>\n<meta charset='utf-8'>\n"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>\n"
        f"<title>{e(title)} · loopml</title>\n{style}\n</head>\n<body>\n{nav}\n"
        f"<main>\n<h1>{e(title)}</h1>\n{body}\n</main>\n</body>\n</html>\n"
    )
