"""How fast the web client shows its first screen, beside the floor set by the JSON API
it reads (the same calls, timed alone from Python): what our pages add on top.

    .venv/bin/python benchmarks/web_bench.py [--goods N] [--loads N]

A demo catalog on the embedded default, served by `idlemarket serve`; headless Chromium
(Debian's, /usr/bin/chromium) at phone size loads each main page `--loads` times cold
(a new browser context: empty cache) and warm (a reload: modules revalidated with 304s).
For each load: the document's arrival, DOMContentLoaded, the first goods card on screen,
and `page:rendered` (the page module finished drawing from its data: interactive), plus
requests and bytes. Prints JSON on stdout; progress on stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx2
from measure import PROJECT_ROOT, api_server, machine, percentile, say

from tests.web.chromium import CHROMIUM, CHROMIUM_ARGS

# Marks taken inside the page, relative to navigation start.
MARKS = """
window.__marks = {};
document.addEventListener('page:rendered', () => {
  if (!window.__marks.rendered) window.__marks.rendered = performance.now();
});
new MutationObserver(() => {
  if (!window.__marks.firstCard && document.querySelector('[data-goods-id]')) {
    window.__marks.firstCard = performance.now();
  }
}).observe(document, { childList: true, subtree: true });
"""

READ_MARKS = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const resources = performance.getEntriesByType('resource');
  const isAsset = (r) => /\\.(js|css)(\\?|$)/.test(r.name);
  return {
    document_ms: nav.responseEnd,
    dom_content_loaded_ms: nav.domContentLoadedEventEnd,
    first_card_ms: window.__marks.firstCard ?? null,
    rendered_ms: window.__marks.rendered ?? null,
    requests: resources.length + 1,
    transferred_bytes: resources.reduce(
      (sum, r) => sum + (r.transferSize || 0), nav.transferSize || 0),
    asset_bytes: resources.filter(isAsset).reduce((sum, r) => sum + (r.encodedBodySize || 0), 0),
    api_calls: resources.filter((r) => r.name.includes('/api/v1/')).map((r) => r.name),
  };
}"""


def seed(home: Path, goods: int) -> dict[str, str]:
    env = {**os.environ, "IDLEMARKET_HOME": str(home), "FIELD_ENCRYPTION_KEY": ""}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    say(f"seeding {goods:,} demo goods")
    subprocess.run(
        [sys.executable, "-m", "api", "demo", "--goods", str(goods), "--no-serve"],
        env=env,
        cwd=PROJECT_ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return env


def wait_ready(page: Any, ready: str) -> None:
    page.wait_for_function("() => window.__marks && window.__marks.rendered", timeout=15_000)
    if ready:
        page.wait_for_selector(ready, timeout=15_000)


def p50_p95(values: list[float]) -> dict[str, float]:
    return {"p50": round(percentile(values, 0.5), 1), "p95": round(percentile(values, 0.95), 1)}


def summarise(samples: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"loads": len(samples)}
    for key in ("document_ms", "dom_content_loaded_ms", "first_card_ms", "rendered_ms"):
        values = [s[key] for s in samples if s[key] is not None]
        if values:
            out[key] = p50_p95(values)
    out["requests"] = samples[-1]["requests"]
    out["transferred_bytes"] = samples[-1]["transferred_bytes"]
    out["asset_bytes"] = samples[-1]["asset_bytes"]
    return out


def api_floor(base: str, urls: list[str], loads: int) -> dict[str, Any]:
    """The page's own API calls, each timed alone and in sequence from Python."""
    totals, slowest = [], []
    with httpx2.Client(timeout=10) as http:
        for url in urls:  # warm the server's caches as the page's loads did
            http.get(url)
        for _ in range(loads):
            times = []
            for url in urls:
                started = time.perf_counter()
                http.get(url).raise_for_status()
                times.append((time.perf_counter() - started) * 1000)
            totals.append(sum(times))
            slowest.append(max(times) if times else 0.0)
    return {
        "calls": len(urls),
        "sequential_ms": p50_p95(totals),
        "slowest_call_ms": p50_p95(slowest),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--goods", type=int, default=2000)
    parser.add_argument("--loads", type=int, default=20)
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        sys.exit(f"no Chromium at {CHROMIUM}: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    report: dict[str, Any] = {"machine": machine(), "goods": args.goods, "pages": {}}
    with tempfile.TemporaryDirectory(prefix="web-bench-") as scratch:
        env = seed(Path(scratch), args.goods)
        with api_server(env) as (_process, base), sync_playwright() as playwright:
            with httpx2.Client(base_url=base) as http:
                goods_id = http.get("/api/v1/search", params={"q": "手机"}).json()["hits"][0]["id"]
            pages = {
                "h5_home": ("/#/", "[data-goods-id]"),
                "h5_search": ("/#/search?q=%E6%89%8B%E6%9C%BA", "[data-goods-id]"),
                "h5_goods": (f"/#/goods/{goods_id}", ""),
                "h5_categories": ("/#/categories", ""),
                "admin_login": ("/admin#/login", ""),
            }
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            phone = {
                "viewport": {"width": 375, "height": 667},
                "is_mobile": True,
                "has_touch": True,
                "locale": "zh-CN",
            }
            for name, (path, ready) in pages.items():
                say(f"{name}: {args.loads} cold and {args.loads} warm loads")
                cold, warm = [], []
                for _ in range(args.loads):
                    context = browser.new_context(**phone)
                    context.add_init_script(MARKS)
                    page = context.new_page()
                    page.goto(base + path)
                    wait_ready(page, ready)
                    cold.append(page.evaluate(READ_MARKS))
                    page.reload()
                    wait_ready(page, ready)
                    warm.append(page.evaluate(READ_MARKS))
                    context.close()
                api_urls = sorted(set(cold[-1]["api_calls"]))
                report["pages"][name] = {
                    "cold": summarise(cold),
                    "warm": summarise(warm),
                    "api_floor": api_floor(base, api_urls, args.loads),
                }
            browser.close()
    print(json.dumps(report, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
