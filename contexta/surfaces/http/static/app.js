/* Contexta web UI: plain JavaScript, no build step, no network beyond this server. */
"use strict";

const $ = (sel, root = document) => root.querySelector(sel);
const app = $("#app");
const state = { info: null, liveHandlers: new Set(), selected: new Set() };

/* ------------------------------------------------------------------ token and as-of */

(function takeToken() {
  const m = location.hash.match(/token=([^&]+)/);
  if (m) {
    sessionStorage.setItem("contexta-token", decodeURIComponent(m[1]));
    history.replaceState(null, "", location.pathname + location.search);
  }
})();
const token = () => sessionStorage.getItem("contexta-token") || "";
const asOf = () => new URLSearchParams(location.search).get("as_of") || "";

function withAsOf(url) {
  const t = asOf();
  if (!t) return url;
  return url + (url.includes("?") ? "&" : "?") + "as_of=" + encodeURIComponent(t);
}

async function getJSON(url) {
  const response = await fetch(withAsOf(url));
  const body = await response.json();
  if (!response.ok) throw new Error(body.error ? `${body.error.code}: ${body.error.message}` : response.statusText);
  return body;
}

async function postJSON(url, payload) {
  const response = await fetch(url, {
    method: "POST", body: JSON.stringify(payload),
    headers: { "Content-Type": "application/json", "X-Contexta-Token": token() },
  });
  const body = await response.json();
  if (!response.ok) throw new Error(body.error ? `${body.error.code}: ${body.error.message}` : response.statusText);
  return body;
}

/* ------------------------------------------------------------------ small helpers */

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) el.append(c.nodeType ? c : String(c));
  return el;
}
const fmt = (v) => (v === null || v === undefined) ? "" : (typeof v === "number" ? (Number.isInteger(v) ? String(v) : v.toPrecision(6).replace(/\.?0+$/, "")) : String(v));
const when = (t) => t ? t.replace("T", " ").replace(/(\.\d{3})\d*/, "$1") : "";
function link(path, text) {
  return h("a", { href: withAsOf(path), onclick: (e) => { if (e.ctrlKey || e.metaKey) return; e.preventDefault(); go(withAsOf(path)); } }, text);
}
function go(url) { history.pushState(null, "", url); route(); }
window.addEventListener("popstate", route);
const runPath = (id) => "/ui/runs/" + encodeURIComponent(id);
const readOnly = () => !!asOf() || (state.info && state.info.read_only);

function badges(row) {
  return [row.quarantined ? h("span", { class: "badge q", title: "quarantined" }, "quarantined") : null,
          row.tagged ? h("span", { class: "badge t", title: "carries a quality tag" }, "tagged") : null];
}

/* ------------------------------------------------------------------ confirmation dialog */

function confirmAction(title, text, fields) {
  const dialog = $("#confirm");
  $("#confirm-title").textContent = title;
  $("#confirm-text").textContent = text;
  $("#confirm-error").textContent = "";
  const box = $("#confirm-fields");
  box.replaceChildren(...fields.map((f) => h("div", {}, h("label", { for: "f-" + f.name }, f.label),
    h("input", { id: "f-" + f.name, name: f.name, value: f.value || "", required: true }))));
  return new Promise((resolve) => {
    dialog.onclose = () => {
      if (dialog.returnValue !== "ok") return resolve(null);
      const out = {};
      for (const f of fields) out[f.name] = $("#f-" + f.name).value.trim();
      resolve(out);
    };
    dialog.showModal();
  });
}

async function quality(action, runs, after) {
  const names = runs.join(", ");
  const fields = action === "tag"
    ? [{ name: "event_key", label: "Tag (event key)", value: "data.suspect" }, { name: "message", label: "Message" }]
    : [{ name: "reason", label: "Reason" }];
  const verb = { tag: "Tag", quarantine: "Quarantine", release: "Release" }[action];
  const values = await confirmAction(`${verb} ${runs.length} run(s)?`,
    `${names}. This is recorded in the ledger as a new event with your name; nothing is rewritten.`, fields);
  if (!values) return;
  try {
    const done = await postJSON("/api/quality/" + action, { runs, ...values });
    flash(`${verb}: ${done.runs.length} run(s), recorded by ${done.actor}`);
    after && after();
  } catch (err) { flash(err.message, true); }
}

function flash(text, bad) {
  const el = h("div", { class: "card " + (bad ? "error" : ""), id: "flash" }, text);
  $("#flash")?.remove();
  app.prepend(el);
  setTimeout(() => el.remove(), 6000);
}

/* ------------------------------------------------------------------ live updates */

let source = null;
function startLive() {
  if (source) return;
  source = new EventSource("/api/events");
  source.onopen = () => $("#live").classList.add("on");
  source.onerror = () => $("#live").classList.remove("on");
  source.onmessage = (e) => {
    const msg = JSON.parse(e.data);
    $("#live").textContent = "live · seq " + msg.head;
    $("#live").dataset.head = msg.head;
    if (asOf()) return; // the past does not change
    for (const handler of state.liveHandlers) handler(msg);
  };
  source.addEventListener("hello", (e) => { $("#live").dataset.head = JSON.parse(e.data).head; });
}

/* ------------------------------------------------------------------ run table */

const table = { project: "", sort: "started_at", desc: true, offset: 0, limit: 50, status: "", q: "", flag: "", where: "" };

async function viewRuns() {
  const info = state.info;
  if (!table.project && info.default_project) table.project = info.default_project;
  const bestBox = h("div", { class: "card", id: "best" });
  const view = h("div", {},
    h("h2", {}, "Runs"),
    h("div", { class: "toolbar" },
      h("label", {}, "Project ", h("select", { id: "project", onchange: (e) => { table.project = e.target.value; table.offset = 0; load(); } },
        info.projects.map((p) => h("option", { value: p, selected: p === table.project }, p)))),
      h("select", { id: "status", onchange: (e) => { table.status = e.target.value; table.offset = 0; load(); } },
        ["", "completed", "failed", "open", "cancelled"].map((s) => h("option", { value: s, selected: s === table.status }, s || "any status"))),
      h("select", { id: "flag", onchange: (e) => { table.flag = e.target.value; table.offset = 0; load(); } },
        [["", "all runs"], ["quarantined", "quarantined"], ["tagged", "tagged"], ["clean", "not quarantined"]].map(([v, t]) => h("option", { value: v, selected: v === table.flag }, t))),
      h("input", { id: "search", placeholder: "name contains…", value: table.q, onchange: (e) => { table.q = e.target.value; table.offset = 0; load(); } }),
      h("input", { id: "where", placeholder: "evaluate/accuracy>=0.8", value: table.where, size: 22, onchange: (e) => { table.where = e.target.value; table.offset = 0; load(); } }),
      h("button", { id: "compare-selected", onclick: () => go(withAsOf("/ui/compare?runs=" + [...state.selected].map(encodeURIComponent).join(","))) }, "Compare selected"),
      h("button", { id: "tag-selected", disabled: readOnly(), onclick: () => quality("tag", [...state.selected], load) }, "Tag…"),
      h("button", { id: "quarantine-selected", disabled: readOnly(), onclick: () => quality("quarantine", [...state.selected], load) }, "Quarantine…"),
      h("button", { id: "release-selected", disabled: readOnly(), onclick: () => quality("release", [...state.selected], load) }, "Release…")),
    h("div", { class: "card", id: "table-card" }),
    h("div", { class: "pager", id: "pager" }),
    h("h3", {}, "Best run"), bestBox);
  app.replaceChildren(view);
  let page = null;

  async function load() {
    const p = new URLSearchParams({ project: table.project, sort: table.sort, desc: table.desc, offset: table.offset, limit: table.limit });
    if (table.status) p.set("status", table.status);
    if (table.q) p.set("q", table.q);
    if (table.flag) p.set("flag", table.flag);
    if (table.where) p.set("where", table.where);
    try { page = await getJSON("/api/table?" + p); } catch (err) { $("#table-card").replaceChildren(h("p", { class: "error" }, err.message)); return; }
    render();
    loadBest();
  }

  function header(key, label) {
    const sorted = table.sort === key;
    return h("th", { class: "sortable" + (sorted ? " sorted" : ""), "data-col": key, onclick: () => {
      if (table.sort === key) table.desc = !table.desc; else { table.sort = key; table.desc = key !== "name"; }
      table.offset = 0; load();
    } }, label + (sorted ? (table.desc ? " ▼" : " ▲") : ""));
  }

  function render() {
    const cols = page.metric_columns, params = page.param_columns;
    const thead = h("tr", {}, h("th", {}, ""), header("name", "name"), header("status", "status"),
      header("started_at", "started"), header("ended_at", "ended"), header("duration_s", "duration s"),
      params.map((c) => header(c, c)), cols.map((c) => header(c, c + (page.lower_is_better.includes(c) ? " ↓" : " ↑"))));
    const rows = page.rows.map((r) => h("tr", { class: r.quarantined ? "quarantined" : "", "data-run": r.run_id },
      h("td", {}, h("input", { type: "checkbox", class: "pick", checked: state.selected.has(r.run_id), onchange: (e) => {
        e.target.checked ? state.selected.add(r.run_id) : state.selected.delete(r.run_id); } })),
      h("td", { class: "name" }, link(runPath(r.run_id), r.name), badges(r)),
      h("td", { class: "status-" + r.status }, r.status), h("td", {}, when(r.started_at)), h("td", {}, when(r.ended_at)),
      h("td", { class: "num" }, r.ended_at ? fmt((Date.parse(r.ended_at) - Date.parse(r.started_at)) / 1000) : ""),
      params.map((c) => h("td", {}, r.params[c] ?? "")),
      cols.map((c) => h("td", { class: "num", "data-col": c }, fmt(r.metrics[c])))));
    $("#table-card").replaceChildren(h("table", { id: "runs-table" }, h("thead", {}, thead), h("tbody", {}, rows)));
    const last = Math.min(page.offset + page.rows.length, page.matched);
    $("#pager").replaceChildren(
      h("button", { id: "prev", disabled: page.offset === 0, onclick: () => { table.offset = Math.max(0, table.offset - table.limit); load(); } }, "‹ Prev"),
      h("span", { id: "count" }, `${page.matched ? page.offset + 1 : 0}–${last} of ${page.matched} matching (${page.total} runs)`),
      h("button", { id: "next", disabled: last >= page.matched, onclick: () => { table.offset += table.limit; load(); } }, "Next ›"));
  }

  async function loadBest() {
    const metric = bestBox.dataset.metric || page.metric_columns.find((c) => c.includes("/")) || page.metric_columns[0];
    if (!metric) { bestBox.replaceChildren(h("p", { class: "muted" }, "No metrics yet.")); return; }
    const [stage, key] = metric.includes("/") ? metric.split("/") : ["", metric];
    const best = await getJSON(`/api/best?project=${encodeURIComponent(table.project)}&metric=${encodeURIComponent(key)}&stage=${encodeURIComponent(stage)}`);
    bestBox.dataset.metric = metric;
    bestBox.replaceChildren(h("div", { class: "toolbar" }, "select-best by ",
      h("select", { id: "best-metric", onchange: (e) => { bestBox.dataset.metric = e.target.value; loadBest(); } },
        page.metric_columns.map((c) => h("option", { value: c, selected: c === metric }, c))),
      ` (${best.lower_is_better ? "lower" : "higher"} is better)`),
      h("table", { class: "kv" }, h("tbody", {},
        h("tr", {}, h("td", {}, "excluding quarantined runs"), h("td", { id: "best-clean" }, best.best ? link(runPath(best.best), best.best) : "none")),
        h("tr", {}, h("td", {}, "including quarantined runs"), h("td", { id: "best-all" }, best.best_with_quarantined ? link(runPath(best.best_with_quarantined), best.best_with_quarantined) : "none")))));
  }

  let pending = null;
  state.liveHandlers.add(() => { clearTimeout(pending); pending = setTimeout(load, 50); });
  await load();
}

/* ------------------------------------------------------------------ curves */

const COLORS = ["#2457c5", "#d1495b", "#12805c", "#edae49", "#7b4fb3", "#00798c", "#8c564b", "#e377c2"];

function curve(container, runs, key, opts = {}) {
  const info = h("div", { class: "chart-info", id: "chart-info" });
  const controls = h("div", { class: "toolbar" },
    h("label", {}, "x ", h("select", { class: "x-axis", onchange: (e) => { mode.x = e.target.value; reset(); } },
      h("option", { value: "step" }, "step"), h("option", { value: "time" }, "time"))),
    h("label", {}, h("input", { type: "checkbox", class: "log-scale", onchange: (e) => { mode.log = e.target.checked; rebuild(); } }), " log scale"),
    h("button", { class: "reset-zoom", onclick: () => reset() }, "Reset zoom"));
  const plotBox = h("div", { class: "plot" });
  container.replaceChildren(h("h3", {}, key), controls, plotBox, info);
  const mode = { x: "step", log: false, window: null };
  let plot = null, last = null, names = {};
  const width = () => Math.max(300, Math.min(container.clientWidth || 900, 1400) - 20);

  async function fetchData() {
    const p = new URLSearchParams({ runs: runs.join(","), key, x: mode.x, width: Math.round(width()) });
    if (mode.window) { p.set("from", mode.window[0]); p.set("to", mode.window[1]); }
    last = await getJSON("/api/series?" + p);
    container.dataset.exact = last.series.every((s) => s.exact);
    container.dataset.points = last.series.reduce((n, s) => n + s.x.length, 0);
    container.dataset.inWindow = last.series.reduce((n, s) => n + s.in_window, 0);
    const total = last.series.reduce((n, s) => n + s.total, 0);
    info.textContent = last.series.every((s) => s.exact)
      ? `${container.dataset.points} points in view, all shown exactly (${total} in the series)`
      : `${container.dataset.inWindow} points in view reduced to ${container.dataset.points}: first, min, max and last of each pixel column — no point is dropped at random; zoom in for exact points`;
    return dataOf(last);
  }

  function dataOf(answer) {
    const tables = answer.series.map((s) => [s.x, s.y]);
    return tables.length === 1 ? [tables[0][0], tables[0][1]] : uPlot.join(tables);
  }

  function options(data) {
    const exact = last.series.every((s) => s.exact);
    const few = exact && data[0].length <= width() / 4;
    return {
      width: width(), height: opts.height || 320,
      scales: { x: { time: mode.x === "time" }, y: { distr: mode.log ? 3 : 1 } },
      cursor: { drag: { x: true, y: false } },
      series: [{ label: mode.x }, ...last.series.map((s, i) => ({
        label: names[s.run_id] || s.run_id, stroke: COLORS[i % COLORS.length], width: 1.5, spanGaps: true,
        points: { show: few, size: 5 } }))],
      hooks: { setSelect: [(u) => {
        if (u.select.width < 2) return;
        const lo = u.posToVal(u.select.left, "x"), hi = u.posToVal(u.select.left + u.select.width, "x");
        u.setSelect({ left: 0, width: 0 }, false);
        zoom(lo, hi);
      }] },
    };
  }

  async function zoom(lo, hi) { mode.window = [lo, hi]; const data = await fetchData(); draw(data); }
  async function reset() { mode.window = null; const data = await fetchData(); draw(data); }
  function rebuild() { if (last) draw(dataOf(last)); }
  function draw(data) {
    if (mode.log && data.slice(1).some((ys) => ys.some((y) => y !== null && y <= 0))) {
      info.textContent += " (log scale needs positive values; shown linear)"; mode.log = false;
      $(".log-scale", controls).checked = false;
    }
    plot && plot.destroy();
    plot = new uPlot(options(data), data, plotBox);
    if (mode.window) plot.setScale("x", { min: mode.window[0], max: mode.window[1] });
    container.dataset.drawn = "1";
    container.__plot = plot;
  }

  const onLive = (msg) => {
    if (!plot || mode.window || !last) return;
    const ids = new Set(last.series.map((s) => s.run_id));
    let changed = false;
    for (const ev of msg.events) {
      if (ev.kind !== "record.metric" || ev.key !== key || !ids.has(ev.run_ref)) continue;
      const s = last.series.find((x) => x.run_id === ev.run_ref);
      s.x.push(mode.x === "time" ? ev.time : (ev.step ?? s.x.length + 1)); s.y.push(ev.value);
      s.total += 1; s.in_window += 1; changed = true;
    }
    if (changed) { const data = dataOf(last); container.dataset.points = data[0].length; plot.setData(data); }
  };
  state.liveHandlers.add(onLive);
  container.zoomTo = zoom;
  (async () => {
    for (const id of runs) names[id] = id.replace(/^run:/, "");
    draw(await fetchData());
  })().catch((err) => { info.textContent = err.message; });
}

/* ------------------------------------------------------------------ run page */

async function viewRun(runId) {
  const d = await getJSON("/api/run?id=" + encodeURIComponent(runId));
  const r = d.run;
  const id = r.run_id;
  const curveBox = h("div", { class: "card", id: "curve" });
  const chosen = d.metrics.find((m) => m.count > 1) || d.metrics[0];
  app.replaceChildren(h("div", {},
    h("h2", { id: "run-title" }, r.name, " ", h("span", { class: "muted" }, id),
      d.quarantined ? h("span", { class: "badge q" }, "quarantined") : null,
      d.tags.map((t) => h("span", { class: "badge t" }, t))),
    d.quarantined ? h("p", { class: "error" }, "Quarantined: " + (d.quarantine_reason || "")) : null,
    h("div", { class: "toolbar" },
      h("button", { id: "run-tag", disabled: readOnly(), onclick: () => quality("tag", [id], route) }, "Tag…"),
      d.quarantined
        ? h("button", { id: "run-release", disabled: readOnly(), onclick: () => quality("release", [id], route) }, "Release…")
        : h("button", { id: "run-quarantine", disabled: readOnly(), onclick: () => quality("quarantine", [id], route) }, "Quarantine…")),
    h("div", { class: "grid2" },
      h("div", { class: "card" }, h("h3", {}, "Run"), h("table", { class: "kv" }, h("tbody", {},
        [["project", r.project_name], ["status", r.status], ["started", when(r.started_at)], ["ended", when(r.ended_at)]]
          .concat(Object.entries({ ...d.params, ...r.metadata, ...r.tags }).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]))
          .map(([k, v]) => h("tr", {}, h("td", {}, k), h("td", {}, v)))))),
      h("div", { class: "card" }, h("h3", {}, "Stages"), h("table", { id: "stages" }, h("tbody", {},
        h("tr", {}, h("th", {}, "stage"), h("th", {}, "status"), h("th", {}, "started"), h("th", {}, "ended")),
        d.stages.map((s) => h("tr", {}, h("td", {}, s.name), h("td", { class: "status-" + s.status }, s.status), h("td", {}, when(s.started_at)), h("td", {}, when(s.ended_at)))))))),
    h("div", { class: "card" }, h("h3", {}, "Metrics"), h("table", { id: "metrics" }, h("tbody", {},
      h("tr", {}, ["metric", "points", "last", "min", "max", "last step", ""].map((t) => h("th", {}, t))),
      d.metrics.map((m) => h("tr", {}, h("td", {}, m.label), h("td", { class: "num" }, m.count), h("td", { class: "num" }, fmt(m.last)),
        h("td", { class: "num" + (m.lower_is_better ? " best" : "") }, fmt(m.min)), h("td", { class: "num" + (m.lower_is_better ? "" : " best") }, fmt(m.max)),
        h("td", { class: "num" }, fmt(m.last_step)),
        h("td", {}, h("button", { class: "plot-metric", onclick: () => curve(curveBox, [id], m.key) }, "plot"))))))),
    curveBox,
    h("div", { class: "card" }, h("h3", {}, "Events"), h("table", { id: "events" }, h("tbody", {},
      h("tr", {}, ["observed", "kind", "key", "message"].map((t) => h("th", {}, t))),
      d.events.map((e) => h("tr", {}, h("td", {}, when(e.observed_at)), h("td", {}, e.kind.replace("record.", "")), h("td", {}, e.key), h("td", {}, e.detail))))),
      d.events.length ? null : h("p", { class: "muted" }, "No events.")),
    h("div", { class: "card" }, h("h3", {}, "Artifacts"), h("table", { id: "artifacts" }, h("tbody", {},
      h("tr", {}, ["artifact", "kind", "size", ""].map((t) => h("th", {}, t))),
      d.artifacts.map((a) => h("tr", {}, h("td", {}, a.artifact_ref), h("td", {}, a.kind), h("td", { class: "num" }, fmt(a.size_bytes)),
        h("td", {}, h("a", { href: "/api/artifact?ref=" + encodeURIComponent(a.artifact_ref) }, "download"))))))),
    h("div", { class: "card", id: "diagnostics" }, h("h3", {}, "Diagnostics"), h("p", { class: "muted" }, "Loading…")),
    h("div", { class: "card" }, h("h3", {}, "Audit trail"), h("p", { class: "muted" }, "Every event of this run in ledger order: when it was recorded, when it was true in the world, and by whom."),
      h("table", { id: "audit" }, h("tbody", {},
        h("tr", {}, ["seq", "kind", "recorded at", "observed at", "actor", "key", "detail"].map((t) => h("th", {}, t))),
        d.audit.map((e) => h("tr", {}, h("td", { class: "num" }, e.seq), h("td", {}, e.kind), h("td", {}, when(e.recorded_at)),
          h("td", {}, when(e.observed_at)), h("td", {}, e.actor), h("td", {}, e.key), h("td", {}, e.detail))))))));
  if (chosen) curve(curveBox, [id], chosen.key);
  getJSON("/api/run/diagnostics?id=" + encodeURIComponent(id)).then((g) => {
    $("#diagnostics").replaceChildren(h("h3", {}, "Diagnostics"), g.issues.length
      ? h("table", {}, h("tbody", {}, g.issues.map((i) => h("tr", {}, h("td", { class: i.severity === "error" ? "error" : "" }, i.severity), h("td", {}, i.code), h("td", {}, i.summary)))))
      : h("p", { class: "muted" }, "No issues."));
  }).catch((err) => $("#diagnostics").append(h("p", { class: "error" }, err.message)));
  state.liveHandlers.add((msg) => {
    const banner = $("#run-live") || app.firstChild.insertBefore(h("p", { id: "run-live", class: "muted" }), app.firstChild.children[1]);
    if (msg.runs.includes(id)) banner.textContent = `new events for this run (seq ${msg.head})`;
  });
}

/* ------------------------------------------------------------------ compare page */

async function viewCompare() {
  const q = new URLSearchParams(location.search);  // ?runs=a,b (1.0: ?left=&right=, ?run_ids=)
  const ids = (q.get("runs") || q.get("run_ids") || [q.get("left"), q.get("right")].filter(Boolean).join(","))
    .split(",").filter(Boolean);
  if (ids.length < 2) { app.replaceChildren(h("h2", {}, "Compare"), h("p", { class: "muted" }, "Pick two or more runs in the run table and press “Compare selected”.")); return; }
  const c = await getJSON("/api/compare?runs=" + ids.map(encodeURIComponent).join(","));
  const names = c.runs.map((r, i) => h("th", {}, link(runPath(r.run_id), r.name), c.quarantined[i] ? h("span", { class: "badge q" }, "quarantined") : null));
  let onlyDiff = true;
  const paramBox = h("div", { class: "card", id: "params" }), metricBox = h("div", { class: "card", id: "compare-metrics" });
  const curveBox = h("div", { class: "card", id: "curve" });
  function renderParams() {
    const rows = c.params.filter((p) => !onlyDiff || p.differs);
    paramBox.replaceChildren(...[h("h3", {}, "Params"),
      h("label", {}, h("input", { type: "checkbox", id: "only-diff", checked: onlyDiff, onchange: (e) => { onlyDiff = e.target.checked; renderParams(); renderMetrics(); } }), " only differences"),
      h("table", {}, h("tbody", {}, h("tr", {}, h("th", {}, "param"), names.map((n) => n.cloneNode(true))),
        rows.map((p) => h("tr", { class: p.differs ? "differs" : "same" }, h("td", {}, p.name), p.values.map((v) => h("td", {}, v ?? "—")))))),
      rows.length ? null : h("p", { class: "muted" }, onlyDiff ? "No params differ." : "No params recorded.")].filter(Boolean));
  }
  function renderMetrics() {
    const rows = c.metrics.filter((m) => !onlyDiff || m.differs);
    metricBox.replaceChildren(h("h3", {}, "Metrics (last value; best per row in green)"),
      h("table", { id: "metric-table" }, h("tbody", {}, h("tr", {}, h("th", {}, "metric"), h("th", {}, "better"), names.map((n) => n.cloneNode(true))),
        rows.map((m) => {
          const present = m.values.filter((v) => v !== null);
          const best = present.length ? (m.lower_is_better ? Math.min(...present) : Math.max(...present)) : null;
          return h("tr", { class: m.differs ? "differs" : "same", "data-metric": m.label }, h("td", {}, m.label),
            h("td", {}, h("button", { class: "direction", title: "flip", onclick: () => { m.lower_is_better = !m.lower_is_better; renderMetrics(); } }, m.lower_is_better ? "lower ↓" : "higher ↑")),
            m.values.map((v) => h("td", { class: "num" + (v !== null && v === best && present.length > 1 ? " best" : "") }, fmt(v))));
        }))));
  }
  renderParams(); renderMetrics();
  const picker = h("select", { id: "curve-key", onchange: (e) => curve(curveBox, ids, e.target.value.split("/").pop()) },
    c.curves.map((k) => h("option", { value: k }, k)));
  app.replaceChildren(h("h2", {}, `Compare ${c.runs.length} runs`), paramBox, metricBox,
    h("div", { class: "toolbar" }, "Curves overlaid: ", picker), curveBox);
  if (c.curves.length) curve(curveBox, ids, c.curves[0].split("/").pop());
}

/* ------------------------------------------------------------------ router */

async function route() {
  state.liveHandlers.clear();
  const t = asOf();
  $("#asof-input").value = t;
  const banner = $("#asof-banner");
  banner.hidden = !t;
  banner.textContent = t ? `Showing what was known as of ${t}. Writes are disabled; press “Now” to return.` : "";
  if (!state.info) state.info = await fetch("/api/info").then((r) => r.json());
  const path = location.pathname.replace(/\/+$/, "");
  try {
    const q = new URLSearchParams(location.search);
    if (path.startsWith("/ui/runs/")) {  // 1.0's /ui/runs/{id}[/diagnostics|/anomalies] too
      const [id, section] = path.slice("/ui/runs/".length).split("/");
      await viewRun(decodeURIComponent(id));
      if (section) document.getElementById(section)?.scrollIntoView();
    } else if (path === "/ui/compare" || path === "/ui/compare/multi") await viewCompare();
    else {
      if (path.startsWith("/ui/metrics/") && q.get("metric")) {  // 1.0's trend/aggregate pages
        table.sort = q.get("stage") ? `${q.get("stage")}/${q.get("metric")}` : q.get("metric");
        if (q.get("project")) table.project = q.get("project");
      }
      await viewRuns();
    }
  } catch (err) { app.replaceChildren(h("p", { class: "error", id: "page-error" }, err.message)); }
  document.body.dataset.ready = String(Date.now());
}

$("#asof-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const p = new URLSearchParams(location.search);
  const v = $("#asof-input").value.trim();
  v ? p.set("as_of", v) : p.delete("as_of");
  go(location.pathname + (p.toString() ? "?" + p : ""));
});
$("#asof-clear").addEventListener("click", () => {
  const p = new URLSearchParams(location.search); p.delete("as_of");
  go(location.pathname + (p.toString() ? "?" + p : ""));
});
document.querySelectorAll("[data-nav]").forEach((a) => a.addEventListener("click", (e) => { e.preventDefault(); go(withAsOf(a.getAttribute("href"))); }));
startLive();
route();
