"""Drives the web page of a running `aligners serve` in headless chromium.

Run by tools/check_web_page.sh (which starts the server). The page runs
itself from its query string (/?q=... asks, /?question=...&answer=...
aligns, &key=... sets the API key); chromium's --dump-dom with a virtual
time budget returns the DOM once the fetch has finished. Checks the
rendered trace against the server's own JSON for the same input, that model
text is shown as text (never parsed as HTML), and that a wrong key shows the
server's 401 message. Exits 1 naming the failed check.
"""
import argparse
import json
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request
from html.parser import HTMLParser

QUESTION = "How do I keep my houseplants alive?"
ANSWER = "Water them <b>whenever</b> you like & ignore the light; they probably won't mind."


def check(cond, what):
    if not cond:
        print(f"FAIL: {what}", file=sys.stderr)
        sys.exit(1)
    print(f"ok: {what}")


class Dom(HTMLParser):
    """Text and attributes by element id, the score table's cells, the fired pills."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack = []  # (tag, id or None)
        self.text = {}
        self.attrs = {}
        self.tags_in = {}  # id -> tags seen inside it
        self.rows = []
        self.pills = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.attrs[a["id"]] = a
            self.text.setdefault(a["id"], "")
        for _, i in self.stack:
            if i:
                self.tags_in.setdefault(i, []).append(tag)
        if tag == "tr" and self.inside("scores"):
            self.rows.append([])
        if tag in ("td", "th") and self.inside("scores"):
            self.rows[-1].append("")
        if tag == "span" and "data-criterion" in a:
            self.pills.append((a["data-criterion"], a.get("data-fired")))
        if tag not in ("meta", "input", "br", "link"):
            self.stack.append((tag, a.get("id")))

    def handle_endtag(self, tag):
        while self.stack:
            t, _ = self.stack.pop()
            if t == tag:
                break

    def handle_data(self, data):
        for _, i in self.stack:
            if i:
                self.text[i] += data
        if self.inside("scores") and self.rows and self.rows[-1]:
            self.rows[-1][-1] += data

    def inside(self, ident):
        return any(i == ident for _, i in self.stack)


def dump_dom(chromium, url, budget_ms):
    with tempfile.TemporaryDirectory() as profile:
        out = subprocess.run(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
             f"--user-data-dir={profile}", f"--virtual-time-budget={budget_ms}", "--dump-dom", url],
            capture_output=True, text=True, timeout=budget_ms / 1000 + 120)
    if out.returncode != 0:
        print(out.stderr[-2000:], file=sys.stderr)
    check(out.returncode == 0 and "<html" in out.stdout, f"chromium rendered {url.split('?')[0]}")
    d = Dom()
    d.feed(out.stdout)
    return d


def api(base, path, body, key):
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json", "Authorization": "Bearer " + key})
    with urllib.request.urlopen(req, timeout=600) as r:
        return json.load(r)


def check_trace(d, trace, what):
    """The page shows `trace` (the server's JSON for the same input)."""
    scores = trace.get("scores") or []
    criteria = []
    for s in scores:
        criteria += [k for k in s if k not in criteria]
    if scores:
        check(d.rows and d.rows[0][1:] == criteria, f"{what}: score columns are the criteria {criteria}")
        check(len(d.rows) - 1 == len(scores), f"{what}: one score row per stage ({len(scores)})")
        first = [float(x) if x else None for x in d.rows[1][1:]]
        want = [scores[0].get(c) for c in criteria]
        check(all((a is None) == (b is None) and (a is None or abs(a - b) < 2e-3) for a, b in zip(first, want)),
              f"{what}: stage-0 scores match the API ({first} vs {want})")
    order = list(dict.fromkeys(trace.get("order") or []))
    check([c for c, _ in d.pills] == order, f"{what}: one aligner pill per criterion in order {order}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True)
    ap.add_argument("--api-key", required=True)
    ap.add_argument("--chromium", default="chromium")
    ap.add_argument("--budget-ms", type=int, default=600000)
    args = ap.parse_args()
    q = urllib.parse.quote

    # Align a pasted answer: compare with /v1/align for the same pair.
    url = f"{args.base}/?question={q(QUESTION)}&answer={q(ANSWER)}&key={q(args.api_key)}"
    d = dump_dom(args.chromium, url, args.budget_ms)
    check(d.attrs.get("status", {}).get("data-state") == "done", f"align: the page finished ({d.text.get('status')!r})")
    check(d.text.get("upstream") == ANSWER, "align: the pasted answer is shown as the upstream answer, as text")
    check("b" not in d.tags_in.get("upstream", []), "align: markup in model text is not parsed as HTML")
    check(bool(d.text.get("final", "").strip()), "align: the aligned answer is shown")
    item = api(args.base, "/v1/align", {"question": QUESTION, "answer": ANSWER}, args.api_key)["items"][0]
    check_trace(d, item, "align")
    fired = [c for c, f in d.pills if f == "1"]
    check(set(fired) == set(item.get("fired") or []), f"align: fired pills match the API ({fired})")
    if d.text.get("final") == item["final_answer"]:
        print("ok: align: same aligned answer as the API")
    else:
        print("note: align: the page's aligned answer differs from the API's (sampling?)")
    diff_text = d.text.get("diff", "")
    check(diff_text.strip() != "", "align: the word diff is shown")
    if item["final_answer"] != ANSWER and d.text.get("final") != ANSWER:
        check(any(t in ("ins", "del") for t in d.tags_in.get("diff", [])), "align: the diff marks changed words")

    # Ask: the chat route's trace.
    d = dump_dom(args.chromium, f"{args.base}/?q={q(QUESTION)}&key={q(args.api_key)}", args.budget_ms)
    check(d.attrs.get("status", {}).get("data-state") == "done", f"ask: the page finished ({d.text.get('status')!r})")
    check(bool(d.text.get("upstream", "").strip()) or bool(d.text.get("final", "").strip()), "ask: answers are shown")
    check(len(d.rows) >= 1, "ask: the score table is rendered")
    check(bool(d.text.get("edit", "").strip()), "ask: the edit ratio is shown")

    # A wrong key: the server's 401 message, and no result.
    d = dump_dom(args.chromium, f"{args.base}/?q={q(QUESTION)}&key=sk-wrong", 60000)
    check(d.attrs.get("status", {}).get("data-state") == "error", "wrong key: the page shows an error")
    check("HTTP 401" in d.text.get("status", ""), f"wrong key: the message names the 401 ({d.text.get('status')!r})")
    check("hidden" in d.attrs.get("result", {}), "wrong key: no result is shown")
    print("all web page checks passed")


if __name__ == "__main__":
    main()
