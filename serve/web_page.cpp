#include "serve/web_page.h"

namespace aligners::serve {

// Model text is only ever placed with textContent, never parsed as HTML.
// The word diff is a longest-common-subsequence over words (whitespace
// kept with the word before it), capped so a huge answer pair cannot
// freeze the tab: above the cap the whole answers are shown as replaced.
static const char kPage[] = R"html(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>aligners serve</title>
<style>
  :root { --fg:#1d2125; --muted:#5f6b76; --line:#d8dee4; --bg:#f6f8fa; --accent:#0b5cad;
          --ok:#1a7f37; --bad:#cf222e; --ins:#d2f4d3; --del:#ffd8d3; }
  * { box-sizing: border-box; }
  body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg);
         margin: 0; background: #fff; }
  header { padding: 14px 24px; border-bottom: 1px solid var(--line); background: var(--bg); }
  header h1 { font-size: 18px; margin: 0; }
  header p { margin: 2px 0 0; color: var(--muted); font-size: 13px; }
  main { max-width: 980px; margin: 0 auto; padding: 16px 24px 48px; }
  .tabs button { font: inherit; padding: 6px 14px; border: 1px solid var(--line); background: #fff;
                 cursor: pointer; border-radius: 6px 6px 0 0; margin-right: 4px; }
  .tabs button.on { background: var(--bg); border-bottom-color: var(--bg); font-weight: 600; }
  form { border: 1px solid var(--line); background: var(--bg); padding: 12px; border-radius: 0 6px 6px 6px; }
  label { display: block; font-size: 13px; color: var(--muted); margin: 8px 0 3px; }
  textarea, input { width: 100%; font: inherit; padding: 6px 8px; border: 1px solid var(--line);
                    border-radius: 4px; background: #fff; }
  textarea { min-height: 70px; resize: vertical; }
  .row { display: flex; gap: 12px; align-items: end; flex-wrap: wrap; }
  .row > div { flex: 1; min-width: 140px; }
  .go { font: inherit; font-weight: 600; padding: 7px 18px; background: var(--accent); color: #fff;
        border: 0; border-radius: 4px; cursor: pointer; }
  .go:disabled { opacity: .5; cursor: wait; }
  #status { margin: 12px 0; color: var(--muted); min-height: 1.4em; }
  #status[data-state=error] { color: var(--bad); white-space: pre-wrap; }
  section.card { border: 1px solid var(--line); border-radius: 6px; margin: 12px 0; }
  section.card h2 { font-size: 14px; margin: 0; padding: 6px 10px; background: var(--bg);
                    border-bottom: 1px solid var(--line); }
  .text { padding: 8px 10px; white-space: pre-wrap; word-wrap: break-word; }
  .two { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; }
  @media (max-width: 700px) { .two { grid-template-columns: 1fr; } }
  table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
  th, td { padding: 4px 10px; border-bottom: 1px solid var(--line); text-align: left; }
  td.score { text-align: right; }
  .low { color: var(--bad); font-weight: 600; }
  .high { color: var(--ok); }
  .pill { display: inline-block; padding: 1px 8px; margin: 2px 4px 2px 0; border-radius: 10px;
          background: #eef1f4; border: 1px solid var(--line); font-size: 13px; }
  .pill.fired { background: #fff1c2; border-color: #e3c261; }
  #diff ins { background: var(--ins); text-decoration: none; }
  #diff del { background: var(--del); color: #6e1a12; }
  .meta { color: var(--muted); font-size: 13px; padding: 6px 10px; }
  [hidden] { display: none !important; }
</style>
</head>
<body>
<header>
  <h1>aligners serve</h1>
  <p>The upstream model answers; inspectors score the answer per criterion; the aligners whose criterion fails rewrite it.</p>
</header>
<main>
  <div class="tabs">
    <button type="button" id="tab-ask" class="on">Ask a question</button>
    <button type="button" id="tab-align">Align an answer</button>
  </div>
  <form id="form" autocomplete="off">
    <label for="question">Question</label>
    <textarea id="question" placeholder="Type a question for the upstream model"></textarea>
    <div id="answer-box" hidden>
      <label for="answer">Answer (from any model or API)</label>
      <textarea id="answer" placeholder="Paste the answer to align"></textarea>
    </div>
    <div class="row">
      <div id="max-box"><label for="max-tokens">Max tokens</label><input id="max-tokens" type="number" min="1" value="256"></div>
      <div><label for="key">API key (if the server needs one)</label><input id="key" type="password" placeholder="optional"></div>
      <div style="flex:0"><button class="go" id="go" type="submit">Ask</button></div>
    </div>
  </form>
  <div id="status" data-state="idle"></div>
  <div id="result" hidden>
    <div class="two">
      <section class="card"><h2>Upstream answer</h2><div class="text" id="upstream"></div></section>
      <section class="card"><h2>Aligned answer</h2><div class="text" id="final"></div></section>
    </div>
    <section class="card"><h2>Word diff (upstream &rarr; aligned)</h2><div class="text" id="diff"></div>
      <div class="meta" id="edit"></div></section>
    <section class="card"><h2>Aligners</h2><div class="text" id="fired"></div></section>
    <section class="card"><h2>Inspector scores per stage (P(aligned))</h2><table id="scores"></table></section>
  </div>
</main>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
let mode = "ask";

function setMode(m) {
  mode = m;
  $("tab-ask").classList.toggle("on", m === "ask");
  $("tab-align").classList.toggle("on", m === "align");
  $("answer-box").hidden = m !== "align";
  $("max-box").hidden = m !== "ask";
  $("go").textContent = m === "ask" ? "Ask" : "Align";
}
$("tab-ask").onclick = () => setMode("ask");
$("tab-align").onclick = () => setMode("align");

function status(state, text) {
  const s = $("status");
  s.dataset.state = state;
  s.textContent = text;
}

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

// Words with the whitespace that follows them, so joining them restores the text.
function words(s) { return s.match(/\S+\s*|\s+/g) || []; }

// [op, text] pieces: "=" kept, "-" only upstream, "+" only aligned.
function wordDiff(a, b) {
  const x = words(a), y = words(b), n = x.length, m = y.length;
  const key = (w) => w.trim();
  if (n * m > 4000000) return [["-", a], ["+", b]];
  const L = Array.from({length: n + 1}, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--)
      L[i][j] = key(x[i]) === key(y[j]) ? L[i + 1][j + 1] + 1 : Math.max(L[i + 1][j], L[i][j + 1]);
  const out = [];
  const push = (op, t) => {
    if (out.length && out[out.length - 1][0] === op) out[out.length - 1][1] += t;
    else out.push([op, t]);
  };
  let i = 0, j = 0;
  while (i < n && j < m) {
    if (key(x[i]) === key(y[j])) { push("=", y[j]); i++; j++; }
    else if (L[i + 1][j] >= L[i][j + 1]) push("-", x[i++]);
    else push("+", y[j++]);
  }
  while (i < n) push("-", x[i++]);
  while (j < m) push("+", y[j++]);
  return out;
}

function showDiff(a, b) {
  const d = $("diff");
  d.replaceChildren();
  if (a === b) { d.append(el("span", b)); return; }
  for (const [op, t] of wordDiff(a, b)) d.append(op === "=" ? document.createTextNode(t) : el(op === "-" ? "del" : "ins", t));
}

function fmt(x) { return typeof x === "number" ? x.toFixed(3) : String(x); }

// One view for both routes: {upstream, final, order, fired, scores, edit_ratio, ...}.
function show(v) {
  $("upstream").textContent = v.upstream;
  $("final").textContent = v.final;
  showDiff(v.upstream, v.final);
  const edit = [];
  if (typeof v.edit_ratio === "number") edit.push("edit ratio " + v.edit_ratio.toFixed(3));
  if (v.empty_rewrites && v.empty_rewrites.length) edit.push("blank rewrites ignored: " + v.empty_rewrites.join(", "));
  if (v.truncated && v.truncated.length) edit.push("truncated to fit: " + v.truncated.join(", "));
  $("edit").textContent = edit.join(" · ");

  const f = $("fired");
  f.replaceChildren();
  const fired = v.fired || [], order = v.order || [];
  const crits = [...new Set(order)];
  if (!crits.length) f.append(el("span", "no aligner ran"));
  for (const c of crits) {
    const did = fired.includes(c);
    const p = el("span", c + (did ? ": rewrote" : ": passed"), "pill" + (did ? " fired" : ""));
    p.dataset.criterion = c;
    p.dataset.fired = did ? "1" : "0";
    f.append(p);
  }
  if (!fired.length && crits.length) f.append(el("span", " (no aligner fired: the upstream answer is final)"));

  const t = $("scores");
  t.replaceChildren();
  const stages = v.scores || [];
  const names = [];
  for (const s of stages) for (const k of Object.keys(s || {})) if (!names.includes(k)) names.push(k);
  const head = el("tr");
  head.append(el("th", "stage"));
  for (const k of names) head.append(el("th", k));
  t.append(head);
  stages.forEach((s, i) => {
    const r = el("tr");
    r.append(el("td", i === 0 ? "upstream answer" : "after " + (order[i - 1] !== undefined ? order[i - 1] + " aligner" : "step " + i)));
    for (const k of names) {
      const x = s && s[k];
      r.append(el("td", x === undefined ? "" : fmt(x), "score" + (typeof x === "number" ? (x < 0.5 ? " low" : " high") : "")));
    }
    t.append(r);
  });
  if (!stages.length) {
    const r = el("tr");
    r.append(el("td", "no inspector scores"));
    t.append(r);
  }
  $("result").hidden = false;
}

async function post(path, body) {
  const headers = {"Content-Type": "application/json"};
  const key = $("key").value.trim();
  if (key) headers["Authorization"] = "Bearer " + key;
  const r = await fetch(path, {method: "POST", headers, body: JSON.stringify(body)});
  const text = await r.text();
  let data;
  try { data = JSON.parse(text); } catch (e) { data = null; }
  if (!r.ok) {
    const msg = data && data.error ? (data.error.message || JSON.stringify(data.error)) : text.slice(0, 300);
    throw new Error("HTTP " + r.status + ": " + msg);
  }
  if (data === null) throw new Error("the server's reply is not JSON: " + text.slice(0, 200));
  return data;
}

async function run() {
  const q = $("question").value;
  if (!q.trim()) { status("error", "Type a question first."); return; }
  $("go").disabled = true;
  $("result").hidden = true;
  status("busy", mode === "ask" ? "Asking the upstream model and running the squad..." : "Running the squad...");
  const t0 = performance.now();
  try {
    let v;
    if (mode === "ask") {
      const max = parseInt($("max-tokens").value, 10);
      const data = await post("/v1/chat/completions", {
        model: "aligners", messages: [{role: "user", content: q}],
        max_tokens: max > 0 ? max : 256, stream: false});
      const tr = data.aligners || {};
      const choice = (data.choices || [])[0] || {};
      const final = (choice.message && choice.message.content) || "";
      v = Object.assign({}, tr, {upstream: tr.upstream_answer !== undefined ? tr.upstream_answer : final, final});
    } else {
      const a = $("answer").value;
      if (!a.trim()) throw new Error("Paste an answer to align.");
      const data = await post("/v1/align", {question: q, answer: a});
      const it = (data.items || [])[0];
      if (!it) throw new Error("the reply has no items");
      v = Object.assign({}, it, {upstream: it.answer, final: it.final_answer});
    }
    show(v);
    status("done", "Done in " + ((performance.now() - t0) / 1000).toFixed(2) + " s.");
  } catch (e) {
    status("error", e.message || String(e));
  } finally {
    $("go").disabled = false;
  }
}
$("form").addEventListener("submit", (e) => { e.preventDefault(); run(); });

// Scripted use: /?q=... asks, /?question=...&answer=... aligns, &key=... sets the key.
const params = new URLSearchParams(location.search);
if (params.get("key")) $("key").value = params.get("key");
if (params.get("q") !== null) { setMode("ask"); $("question").value = params.get("q"); run(); }
else if (params.get("question") !== null) {
  setMode("align");
  $("question").value = params.get("question");
  $("answer").value = params.get("answer") || "";
  run();
}
</script>
</body>
</html>
)html";

const std::string& web_page_html() {
    static const std::string page(kPage, sizeof kPage - 1);
    return page;
}

}  // namespace aligners::serve
