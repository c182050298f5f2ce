"""The documentation site: strict build, offline, every formula rendered by KaTeX in Chromium.

The build needs only the docs extra; the browser test also needs Playwright's Python package and
Debian's chromium (installed by .ci/run). Locally a missing tool skips the tests that use it, with
its name; in CI (``CI`` set) it fails. Screenshots of the main pages
are kept in ``artifacts/screenshots`` as test artifacts.
"""

from __future__ import annotations

import functools
import html
import http.server
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
MAIN_PAGES = ["", "getting-started/", "questions/filter-depth/", "quadratic/", "layers/"]


def need(condition: bool, what: str) -> None:
    if not condition:
        if os.environ.get("CI"):
            pytest.fail(f"{what} is required in CI (installed by .ci/run)")
        pytest.skip(f"{what} is not installed")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    need(
        subprocess.run(
            [sys.executable, "-c", "import mkdocs_gen_files, material"], capture_output=True
        ).returncode
        == 0,
        "the docs extra",
    )
    target = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "DISABLE_MKDOCS_2_WARNING": "true"}
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(target)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return target


def test_built_html_references_no_outside_host(site):
    outside = []
    for page in site.rglob("*.html"):
        text = page.read_text(errors="replace")
        for tag, url in re.findall(r"<(script|link|img)[^>]*?(?:src|href)=\"([^\"]+)\"", text):
            if urlparse(url).scheme in ("http", "https") or url.startswith("//"):
                outside.append((page.relative_to(site), tag, url))
    for sheet in site.rglob("*.css"):
        for url in re.findall(r"url\(([^)]+)\)", sheet.read_text(errors="replace")):
            url = url.strip("'\"")
            if urlparse(url).scheme in ("http", "https") or url.startswith("//"):
                outside.append((sheet.relative_to(site), "css", url))
    assert outside == []


def test_every_page_renders_offline_in_chromium(site):
    need(shutil.which("chromium") is not None, "chromium")
    need(
        subprocess.run([sys.executable, "-c", "import playwright"], capture_output=True).returncode == 0,
        "playwright",
    )
    from playwright.sync_api import sync_playwright

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    shots = ROOT / "artifacts" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    pages = sorted(str(p.parent.relative_to(site)) + "/" for p in site.rglob("index.html"))
    pages = ["" if p == "./" else p for p in pages if not p.startswith(("assets", "search"))]
    totals, requests, clipped, broken_names = {}, [], {}, {}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.on("request", lambda request: requests.append(request.url))
            for path in pages:
                page.goto(base + path, wait_until="load")
                page.wait_for_timeout(300)
                totals[path] = (page.locator(".katex").count(), page.locator(".katex-error").count())
                clipped[path] = page.evaluate(OVERFLOWING_DISPLAYS)
                broken_names[path] = page.evaluate(BROKEN_NAMES)
                if path in MAIN_PAGES:
                    name = (path.strip("/") or "home").replace("/", "-")
                    page.screenshot(path=str(shots / f"{name}.png"), full_page=False)
            browser.close()
    finally:
        server.shutdown()
    leaving = [
        url
        for url in requests
        if urlparse(url).hostname not in ("127.0.0.1", None) and not url.startswith(("data:", "blob:"))
    ]
    assert leaving == []
    assert all(errors == 0 for _, errors in totals.values()), totals
    assert {path: widths for path, widths in clipped.items() if widths} == {}  # no display formula is cut off
    assert {
        path: names for path, names in broken_names.items() if names
    } == {}  # no name wraps inside a table
    assert sum(count for count, _ in totals.values()) > 100, totals
    for path in ("", "questions/filter-depth/", "quadratic/", "layers/", "proofs/", "beyond/"):
        assert totals[path][0] > 0, (path, totals[path])


BROKEN_NAMES = """() => [...document.querySelectorAll('.md-typeset table td code')]
    .filter(c => c.offsetParent !== null && c.getClientRects().length > 1)
    .map(c => c.textContent).slice(0, 5)"""
OVERFLOWING_DISPLAYS = """() => [...document.querySelectorAll('.katex-display')]
    .filter(d => d.offsetParent !== null)
    .map(d => d.scrollWidth - d.clientWidth)
    .filter(excess => excess > 2)"""


def _prose(page: Path) -> str:
    """A page's running text: code, scripts, formulas and tags removed."""
    text = page.read_text(errors="replace")
    for pattern in (r"<pre.*?</pre>", r"<code.*?</code>", r"<script.*?</script>", r"<style.*?</style>"):
        text = re.sub(pattern, " ", text, flags=re.S)
    text = re.sub(r"\$\$.*?\$\$|\\\(.*?\\\)|\\\[.*?\\\]", " ", text, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", text))


def test_prose_holds_no_python_notation_sphinx_roles_or_internal_words(site):
    found = {}
    for page in site.rglob("index.html"):
        if page.parent.name in ("search", "assets"):
            continue
        prose = _prose(page)
        problems = re.findall(r"\w\*\*?\w", prose)  # 9*k1, alpha**2: formulas belong in math
        problems += re.findall(r":(?:func|class|meth|mod):", prose)
        problems += re.findall(r"(?i)design\.md|the seed's|spatial axis 0", prose)
        if problems:
            found[str(page.relative_to(site))] = problems[:5]
    assert found == {}


def test_search_index_reads_formulas_as_text(site):
    """Search results show formulas as the terminal writes them, never their TeX source."""
    import json

    entries = json.loads((site / "search" / "search_index.json").read_text())["docs"]
    tex = {}
    for entry in entries:
        text = re.sub(r"<pre.*?</pre>|<code.*?</code>", " ", entry["text"], flags=re.S)
        found = re.findall(r"\\[A-Za-z]+|\\[(\[]|[_^]\{", text)
        if found:
            tex[entry["location"]] = found[:5]
    assert tex == {}
    gallery = " ".join(e["text"] for e in entries if e["location"].startswith("gallery/"))
    assert "H₁ = ⌊(H − 1)/2⌋ + 1" in gallery  # torchvision's stride-2 stem, as a reader types it


def test_api_reference_has_a_heading_and_signature_per_object(site):
    page = (site / "api" / "index.html").read_text()
    for name in (
        "symbols",
        "Network",
        "Report",
        "prove",
        "explain",
        "scale",
        "check_network",
        "build",
        "from_torch",
        "import_onnx",
        "roofline",
        "attention_growth",
    ):
        assert re.search(rf'<h2 id="[\w.]*\.{name}" class="doc doc-heading"', page), name
    assert "doc-signature" in page
    assert "&gt;&gt;&gt;" not in re.sub(r"<pre.*?</pre>", "", page, flags=re.S)  # examples are code blocks


def test_site_states_the_seed_answers(site):
    text = " ".join(p.read_text(errors="replace") for p in site.rglob("index.html"))
    for number in ("400", "2,888", "46,090", "49,378"):
        assert number in text
    assert "1 × 1 convolution" in text and "per feature map" in text and "quadratic" in text


def test_pages_are_written_without_mkdocs(tmp_path):
    """``python -m scripts.pages DIR`` writes every page of the navigation and every image they show."""
    done = subprocess.run(
        [sys.executable, "-m", "scripts.pages", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "MPLBACKEND": "Agg"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    navigation = re.findall(r":\s*([\w/.-]+\.md)\s*$", (ROOT / "mkdocs.yml").read_text(), re.M)
    assert len(navigation) > 10
    written = {str(path.relative_to(tmp_path)) for path in tmp_path.rglob("*.md")}
    assert written == set(navigation)
    for page in tmp_path.rglob("*.md"):
        for image in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", page.read_text()):
            target = page.parent / image
            assert target.is_file() or (ROOT / "docs" / image).is_file(), (page.name, image)
