// The fillpath dashboard: plain JS, no build step, no CDN. Tables poll the JSON API; the live feed is server-sent
// events. Amounts arrive as integer/decimal strings and are shown as such (BigInt where arithmetic is needed).
"use strict";

const token = (() => {
  const m = location.hash.match(/token=([^&]+)/);
  if (m) sessionStorage.setItem("fillpath-token", decodeURIComponent(m[1]));
  return sessionStorage.getItem("fillpath-token") || "";
})();
const $ = (sel) => document.querySelector(sel);
const el = (tag, attrs = {}, ...kids) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) (k === "class" ? (e.className = v) : e.setAttribute(k, v));
  for (const kid of kids) e.append(kid instanceof Node ? kid : document.createTextNode(kid ?? "-"));
  return e;
};
async function api(path, body) {
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  const init = body === undefined ? { headers } : { method: "POST", headers: { ...headers, "Content-Type": "application/json" }, body: JSON.stringify(body) };
  const r = await fetch(path, init);
  const data = await r.json();
  if (!r.ok) throw Object.assign(new Error(data.message || r.status), { status: r.status, data });
  return data;
}
// a decimal string, shortened for reading (never rounded through a float)
function short(s, places = 6) {
  if (s === null || s === undefined) return "-";
  const [i, f = ""] = String(s).split(".");
  if (/E/i.test(s)) return String(Number(s) === 0 ? "0" : s);
  const frac = f.slice(0, places).replace(/0+$/, "");
  return frac ? `${i}.${frac}` : i;
}
const nonzero = (s) => s !== null && s !== undefined && !/^-?0(\.0*)?(E[-+]?\d+)?$/i.test(String(s));
const ago = (s) => (s === null || s === undefined ? "-" : `${Number(s).toFixed(1)} s`);
function fill(tbody, rows) { tbody.replaceChildren(...rows); }
const stateClass = { ok: "ok", degraded: "warn", halted: "bad", drift: "warn", wait: "muted", halt: "bad", error: "bad" };

async function refreshStatus() {
  try {
    const s = await api("/api/status");
    const phase = $("#phase");
    phase.textContent = s.ready ? "ready" : s.phase;
    phase.className = `pill ${s.ready ? "ok" : "warn"}`;
    $("#summary").textContent = `seq ${s.journal_last_seq} · up ${Math.round(s.uptime_s)} s · snapshot ${ago(s.snapshot.age_s)} · swaps in flight ${s.swaps_in_flight}`;
    $("#killswitch").classList.toggle("hidden", !s.kill_switch.engaged);
    renderReconcile(s.reconciliation);
    return s.ready;
  } catch (e) {
    $("#phase").textContent = e.status === 401 ? "token needed (#token=…)" : "service unreachable";
    $("#phase").className = "pill bad";
    return false;
  }
}

function renderReconcile(locs) {
  fill($("#reconcile tbody"), locs.map((l) => {
    const watching = l.kind === "chain" ? `head ${l.head ?? "-"} (${l.head_source ?? "-"})` : `stream ${l.stream_updates} msgs, ${l.stream_gaps} gaps · clock ${l.clock_offset_ms ?? "-"} ms`;
    const status = el("td", { class: stateClass[l.status] || "" }, l.last_error ? `${l.status}: ${l.last_error}` : l.status);
    return el("tr", { "data-location": l.location }, el("td", {}, `${l.location} (${l.kind})`), status, el("td", {}, `${l.interval_s} s`),
      el("td", {}, ago(l.lag_s)), el("td", {}, l.last_duration_ms === null ? "-" : `${l.last_duration_ms} ms`), el("td", {}, String(l.passes)), el("td", { class: "l" }, watching));
  }));
}

async function refreshBalances() {
  const b = await api("/api/balances");
  $("#balances-age").textContent = b.venues_read_s_ago === null ? "" : `venues read ${b.venues_read_s_ago} s ago`;
  fill($("#balances tbody"), b.assets.map((r) => {
    const [sym, loc] = r.asset.split("@");
    return el("tr", { "data-asset": r.asset }, el("td", {}, sym), el("td", { class: "l" }, loc), el("td", {}, short(r.ledger)), el("td", {}, short(r.venue)),
      el("td", {}, short(r.in_flight)), el("td", { class: nonzero(r.drift) ? "drift" : "" }, short(r.drift)), el("td", {}, short(r.value, 2)));
  }));
  fill($("#symbols tbody"), Object.entries(b.symbols).map(([sym, t]) =>
    el("tr", {}, el("td", {}, sym), el("td", {}, short(t.ledger)), el("td", {}, short(t.venue)), el("td", {}, short(t.value, 2)))));
}

async function refreshVenues() {
  const rows = await api("/api/venues");
  fill($("#venues tbody"), rows.map((v) => el("tr", { "data-venue": v.venue },
    el("td", {}, v.venue), el("td", { class: stateClass[v.state] }, v.state + (v.held ? " (held)" : "")), el("td", {}, v.score.toFixed(1)),
    el("td", {}, v.state === "halted" ? "excluded" : v.penalty_bps ? `-${v.penalty_bps} bps` : "-"), el("td", { class: "l muted" }, v.reason || ""))));
}

async function refreshInflight() {
  const f = await api("/api/inflight");
  const rows = [
    ...f.orders.map((o) => el("tr", {}, el("td", {}, "order"), el("td", {}, o.venue), el("td", { class: "l" }, o.client_order_id), el("td", {}, o.status), el("td", {}, `${o.side ?? ""} ${o.qty ?? ""} ${o.symbol ?? ""}, filled ${o.filled_qty}`))),
    ...f.transactions.map((t) => el("tr", {}, el("td", {}, "tx"), el("td", {}, t.venue), el("td", { class: "l" }, t.tx_hash.slice(0, 18) + "…"), el("td", {}, t.tracker || t.status), el("td", {}, `nonce ${t.nonce}`))),
    ...f.intents.map((i) => el("tr", {}, el("td", {}, "intent"), el("td", {}, i.venue), el("td", { class: "l" }, i.intent_id), el("td", {}, "open"), el("td", {}, `${i.action ?? ""} ${short(i.amount_in)} ${i.asset_in ?? ""}`))),
  ];
  fill($("#inflight tbody"), rows);
  $("#inflight-empty").classList.toggle("hidden", rows.length > 0);
}

// --- executions and their charts ---------------------------------------------------------------------------
let executions = [];
let selected = null;
async function refreshExecutions() {
  executions = await api("/api/executions?limit=20");
  if (!selected && executions.length) selected = executions[0].execution_id;
  fill($("#executions tbody"), executions.map((x) => {
    const tr = el("tr", { "data-execution": x.execution_id, class: x.execution_id === selected ? "sel" : "" },
      el("td", { class: "l" }, x.execution_id), el("td", {}, x.mode), el("td", { class: x.status === "done" ? "ok" : x.status === "failed" ? "bad" : "" }, x.status),
      el("td", {}, `${x.sell} → ${x.buy}`), el("td", {}, x.expected_out ?? "-"), el("td", {}, x.realized_out ?? "-"));
    tr.addEventListener("click", () => { selected = x.execution_id; refreshExecutions(); });
    return tr;
  }));
  const x = executions.find((e) => e.execution_id === selected);
  if (x) drawExecution(x);
}
const NS = "http://www.w3.org/2000/svg";
const svg = (tag, attrs, text) => { const e = document.createElementNS(NS, tag); for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v); if (text !== undefined) e.textContent = text; return e; };
function bps(part, whole) { // exact: BigInt, two decimals
  if (!whole || BigInt(whole) === 0n) return 0;
  return Number((BigInt(part) * 1000000n) / BigInt(whole)) / 100;
}
function drawExecution(x) {
  $("#execution-detail p").textContent = `${x.execution_id}: ${x.mode}, ${x.status} — plan vs realized per leg (bars scaled per leg), then the P&L against the arrival mid`;
  const legs = x.legs.length ? x.legs : (x.plan ? x.plan.legs.map((l) => ({ ...l, realized_out: null })) : []);
  const chart = $("#legs-chart");
  const rowH = 26, left = 260, width = 420;
  chart.replaceChildren();
  chart.setAttribute("viewBox", `0 0 ${left + width + 90} ${Math.max(40, legs.length * rowH + 20)}`);
  chart.style.height = `${Math.max(60, legs.length * rowH + 24)}px`;
  legs.forEach((l, i) => {
    const exp = BigInt(l.expected_out), real = l.realized_out === null ? null : BigInt(l.realized_out);
    const max = real !== null && real > exp ? real : exp;
    const w = (v) => (max === 0n ? 0 : Number((v * 1000n) / max) / 1000 * width);
    const y = 10 + i * rowH;
    chart.append(svg("text", { x: 0, y: y + 12 }, `${l.venue.slice(0, 34)}${l.status ? " · " + l.status : ""}`));
    chart.append(svg("rect", { x: left, y, width: w(exp), height: 9, class: "bar-exp" }));
    if (real !== null) chart.append(svg("rect", { x: left, y: y + 10, width: w(real), height: 9, class: "bar-real" }));
    const diff = real === null ? "—" : `${bps(real - exp, exp) >= 0 ? "+" : ""}${bps(real - exp, exp).toFixed(2)} bps`;
    chart.append(svg("text", { x: left + width + 6, y: y + 14 }, diff));
  });
  const pnl = $("#pnl-chart");
  pnl.replaceChildren();
  if (!x.pnl) { pnl.append(svg("text", { x: 0, y: 20 }, "no P&L (a dry run, or interrupted)")); pnl.style.height = "30px"; return; }
  const parts = ["price_impact", "fees", "gas", "slippage", "latency", "drift", "failed", "shortfall"];
  const vals = parts.map((k) => bps(x.pnl[k] ?? "0", x.pnl.arrival));
  const span = Math.max(1, ...vals.map(Math.abs));
  const mid = 300, half = 260;
  pnl.setAttribute("viewBox", `0 0 ${mid + half + 80} ${parts.length * 22 + 30}`);
  pnl.style.height = `${parts.length * 22 + 34}px`;
  pnl.append(svg("line", { x1: mid, x2: mid, y1: 4, y2: parts.length * 22 + 6, class: "axis" }));
  parts.forEach((k, i) => {
    const v = vals[i], y = 6 + i * 22, w = Math.abs(v) / span * half;
    pnl.append(svg("text", { x: mid - 8 - half / 2 - 60, y: y + 12 }, k));
    pnl.append(svg("rect", { x: v >= 0 ? mid : mid - w, y, width: w, height: 14, class: v >= 0 ? "pos" : "neg" }));
    pnl.append(svg("text", { x: mid + (v >= 0 ? w + 6 : 6), y: y + 12 }, `${v.toFixed(2)} bps`));
  });
  pnl.append(svg("text", { x: 0, y: parts.length * 22 + 24 }, `arrival ${x.pnl.arrival} · realized ${x.realized_out} (base units of ${x.buy})`));
}

// --- the live feed -----------------------------------------------------------------------------------------
let lastSeq = 0;
const MAX_FEED = 300;
function summarize(e) {
  const p = e.payload;
  const pick = ["asset", "expected", "observed", "source", "client_order_id", "tx_hash", "status", "reason", "execution_id", "problem", "offset_ns", "qty", "price", "intent_id", "outcome", "delta"];
  return pick.filter((k) => p[k] !== undefined && p[k] !== null).map((k) => `${k}=${String(p[k]).slice(0, 24)}`).join(" ");
}
function addEvent(e, fresh) {
  if (e.seq <= lastSeq) return;
  lastSeq = e.seq;
  const t = new Date(Number(BigInt(e.recv_ns) / 1000000n)).toISOString().slice(11, 23);
  const li = el("li", { class: `k-${e.kind}${fresh ? " new" : ""}`, "data-kind": e.kind, "data-seq": String(e.seq) }, `#${e.seq} ${t} ${e.kind} ${e.venue} ${summarize(e)}`);
  const feed = $("#feed");
  feed.prepend(li);
  while (feed.children.length > MAX_FEED) feed.lastChild.remove();
  $("#feed-count").textContent = `last #${lastSeq}`;
}
let refreshSoon = null;
function connectFeed() {
  const q = new URLSearchParams({ after: String(lastSeq) });
  if (token) q.set("token", token);
  const src = new EventSource(`/api/stream?${q}`);
  src.addEventListener("open", () => { $("#live").textContent = "feed: live"; $("#live").className = "pill ok"; });
  src.addEventListener("error", () => { $("#live").textContent = "feed: reconnecting"; $("#live").className = "pill warn"; });
  src.addEventListener("journal", (m) => {
    addEvent(JSON.parse(m.data), true);
    clearTimeout(refreshSoon);
    refreshSoon = setTimeout(refreshData, 300); // what the event changed shows up now, not at the next poll
  });
}

async function refreshData() {
  await Promise.allSettled([refreshBalances(), refreshVenues(), refreshInflight(), refreshExecutions()]);
}
async function loop() {
  const ready = await refreshStatus();
  if (ready) await refreshData();
  setTimeout(loop, 2000);
}

$("#swap-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const f = new FormData(ev.target);
  const execute = ev.submitter && ev.submitter.name === "exec";
  if (execute && !confirm(`Execute: sell ${f.get("amount")} ${f.get("sell")} for ${f.get("buy")}?`)) return;
  $("#swap-result").textContent = execute ? "executing…" : "planning…";
  try {
    const r = await api("/api/swap", { amount: String(f.get("amount")), sell: String(f.get("sell")), buy: String(f.get("buy")), execute });
    $("#swap-result").textContent = `${r.execution_id}: ${r.status}, expected ${r.expected_out}, realized ${r.realized_out} · ${JSON.stringify(r.timings_ms)}`;
    selected = r.execution_id;
    refreshExecutions();
  } catch (e) {
    $("#swap-result").textContent = `error: ${e.message}`;
  }
});

(async () => {
  try {
    const recent = await api("/api/events?last=100");
    recent.forEach((e) => addEvent(e, false));
  } catch (e) { /* not ready yet: the stream brings them */ }
  connectFeed();
  loop();
})();
