// The district dashboard: signs staff in, then draws each snapshot the server sends. It decides nothing: the
// server computes every colour, reason and figure; this page only lays them out (text only, never HTML).
"use strict";

const $ = (css) => document.querySelector(css);
const SVG = "http://www.w3.org/2000/svg";
const PERSIAN = "۰۱۲۳۴۵۶۷۸۹";
const persian = (text) => String(text).replace(/[0-9]/g, (d) => PERSIAN[Number(d)]);
let csrf = null;
let source = null;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value; else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

function svg(tag, attrs = {}) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  return node;
}

async function post(path, body) {
  const headers = { "content-type": "application/json" };
  if (csrf) headers["x-csrf-token"] = csrf;
  return fetch(path, { method: "POST", headers, body: JSON.stringify(body), credentials: "same-origin" });
}

function showSignIn() {
  if (source) { source.close(); source = null; }
  csrf = null;
  $("#board").hidden = true; $("#who").hidden = true; $("#sign-out").hidden = true;
  $("#sign-in").hidden = false;
  $("#staff").focus();
}

function showBoard(staff) {
  $("#sign-in").hidden = true; $("#board").hidden = false;
  $("#who").textContent = `کاربر: ${staff}`; $("#who").hidden = false; $("#sign-out").hidden = false;
  fetch("/api/snapshot", { credentials: "same-origin" }).then((r) => (r.ok ? r.json() : null)).then((v) => v && draw(v));
  fetch("/api/results", { credentials: "same-origin" }).then((r) => (r.ok ? r.json() : null))
    .then((v) => v && drawResults(v));
  source = new EventSource("/api/events");
  source.addEventListener("snapshot", (event) => draw(JSON.parse(event.data)));
  source.addEventListener("results", (event) => drawResults(JSON.parse(event.data)));
  source.addEventListener("signed_out", showSignIn);
}

async function signIn(event) {
  event.preventDefault();
  const reply = await post("/api/sign-in", { staff: $("#staff").value.trim(), password: $("#password").value });
  $("#password").value = "";
  const body = await reply.json();
  if (reply.ok && body.signed_in) {
    csrf = body.csrf;
    $("#sign-in-problem").textContent = "";
    showBoard(body.staff);
    return;
  }
  $("#sign-in-problem").textContent = body.problem === "locked_out"
    ? `ورود این حساب به‌دلیل تلاش‌های نادرست پیاپی تا ${persian(Math.ceil(body.locked_for_s / 60))} دقیقه بسته است.`
    : "شناسه یا گذرواژه نادرست است.";
}

function draw(view) {
  $("#title").textContent = `داشبورد ناحیهٔ ${view.district}`;
  $("#at").textContent = view.at;
  $("#totals").replaceChildren(...view.totals.map((t) =>
    el("li", { "data-total": t.key }, t.label, el("span", { class: "value" }, t.text))));
  drawAlerts(view.alerts);
  $("#branches").replaceChildren(...view.branches.map(drawBranch));
  $("#openings").replaceChildren(...view.openings.map((o) =>
    el("li", { "data-branch": o.branch, "data-opening": o.opening },
      el("span", { class: "id" }, o.branch), `: ${o.text}`, o.opening === "late" ? ` (${o.at})` : "")));
  $("#no-openings").hidden = view.openings.length > 0;
  chart($("#issued-chart"), view.hours, "issued", "bar-rect", "تعرفهٔ صادرشده");
  chart($("#duplicates-chart"), view.hours, "duplicates", "dup-rect", "رأی تکراری ردشده");
  $("#intake").textContent = `پذیرفته: ${view.intake.applied} — کهنه و نادیده: ${view.intake.stale}`
    + (view.intake.unsaved ? ` — ذخیره‌نشده: ${view.intake.unsaved_text}` : "");
  $("#refused").replaceChildren(...view.intake.refused.map((r) =>
    el("li", { "data-reason": r.reason }, `ردشده، ${r.text}: ${r.count}`)));
}

function drawOffline(view) {
  $("#offline-unavailable").hidden = view.available;
  $("#offline-body").hidden = !view.available;
  if (!view.available) { $("#offline-unavailable").textContent = view.text; return; }
  $("#offline-summary").replaceChildren(...view.summary.map((t) =>
    el("li", { "data-offline": t.key }, t.label, el("span", { class: "value" }, t.text))));
  $("#no-offline").hidden = view.branches.length > 0;
  $("#offline-branches").replaceChildren(...view.branches.map((b) =>
    el("li", { "data-branch": b.branch, "data-colour": b.colour, class: b.colour },
      el("span", { class: "id" }, b.branch), ` — ${b.text} (آخرین ${b.last})`)));
  $("#double-votes").replaceChildren(...view.double_votes.map((d) =>
    el("li", { "data-branch": d.branch, "data-terminal": d.terminal, "data-code": d.code }, d.text)));
  $("#no-double-votes").hidden = view.double_votes.length > 0;
  $("#offline-faults").replaceChildren(...view.faults.map((f) =>
    el("li", { "data-branch": f.branch, "data-code": f.code },
      el("span", { class: "id" }, `${f.branch} / ${f.terminal}`), ` — ${f.text} (${f.at})`)));
  $("#no-offline-faults").hidden = view.faults.length > 0;
}

function drawResults(view) {
  if (view.offline) drawOffline(view.offline);
  $("#results-unavailable").hidden = view.available;
  $("#results-body").hidden = !view.available;
  if (!view.available) { $("#results-unavailable").textContent = view.text; return; }
  $("#results-summary").replaceChildren(...view.summary.map((t) =>
    el("li", { "data-result": t.key }, t.label, el("span", { class: "value" }, t.text))));
  $("#results-elections").replaceChildren(...view.elections.map(drawElection));
  const branchList = (id, none, branches) => {
    $(id).replaceChildren(...branches.map((b) => el("li", { "data-branch": b }, el("span", { class: "id" }, b))));
    $(none).hidden = branches.length > 0;
  };
  branchList("#results-missing", "#no-missing", view.missing);
  branchList("#results-conflicts", "#no-conflicts", view.conflicts);
  $("#results-flags").replaceChildren(...view.flags.map((f) =>
    el("li", { "data-branch": f.branch, "data-flag": f.flag },
      el("span", { class: "id" }, f.branch), ` — ${f.text}`, f.election ? ` (${f.election})` : "",
      el("span", { class: "detail", dir: "auto" }, f.detail))));
  $("#no-flags").hidden = view.flags.length > 0;
}

function drawElection(election) {
  const rows = election.candidates.map((c) => el("tr", { "data-candidate": c.candidate },
    el("th", { scope: "row" }, c.name), el("td", {}, c.votes_text)));
  const figures = election.figures.map((f) => el("tr", { class: "figure", "data-figure": f.key },
    el("th", { scope: "row" }, f.label), el("td", {}, f.text)));
  const table = el("table", { "data-election": election.election },
    el("caption", {}, election.title),
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "نامزد"), el("th", { scope: "col" }, "آرا"))),
    el("tbody", {}, ...rows, ...figures));
  return table;
}

function drawBranch(branch) {
  const head = el("h3", {}, el("span", { class: "id" }, branch.branch),
    el("span", { class: `badge ${branch.colour}` }, branch.colour_text), ...branch.reasons.map((r) => r));
  const rows = branch.terminals.map((t) => el("li", { class: "terminal", "data-terminal": t.terminal, "data-colour": t.colour },
    el("span", { class: "id" }, t.terminal), el("span", { class: `badge ${t.colour}` }, t.colour_text),
    el("span", { class: "meta" }, `آخرین پیام ${t.heard} — صادرشده ${t.issued}`),
    el("ul", { class: "reasons" }, ...t.reasons.map((r, i) => el("li", { class: t.colour, "data-condition": t.conditions[i] }, r)))));
  return el("article", { class: `branch ${branch.colour}`, "data-branch": branch.branch, "data-colour": branch.colour },
    head, el("ul", { class: "terminals" }, ...rows));
}

function drawAlerts(alerts) {
  $("#no-alerts").hidden = alerts.length > 0;
  $("#alerts").replaceChildren(...alerts.map((a) => {
    const where = a.terminal ? `${a.branch} / ${a.terminal}` : a.branch;
    const when = a.state === "closed" ? `${a.opened_at} تا ${a.closed_at}` : `از ${a.opened_at}`;
    const done = a.acknowledged_by ? ` — دید: ${a.acknowledged_by}` : "";
    const item = el("li", { class: a.state === "closed" ? "closed" : a.colour, "data-alert": a.id, "data-state": a.state },
      el("span", { class: "kind" }, a.state_text),
      el("span", {}, el("span", { class: "id" }, where), ` — ${a.text} `, el("span", { class: "when" }, when + done)));
    if (a.acknowledgeable) {
      const button = el("button", { type: "button", class: "ack" }, "دیدم");
      button.setAttribute("aria-label", `دیدم: ${where} — ${a.text}`);
      button.addEventListener("click", () => acknowledge(a.id, button));
      item.append(button);
    } else {
      item.append(el("span"));
    }
    return item;
  }));
}

async function acknowledge(id, button) {
  button.disabled = true;
  const reply = await post(`/api/alerts/${id}/acknowledge`, {});
  if (reply.status === 403) showSignIn();
}

function chart(holder, hours, field, css, label) {
  const width = 480, height = 170, left = 34, bottom = 22, top = 14;
  const most = Math.max(1, ...hours.map((h) => h[field]));
  const step = hours.length ? (width - left - 6) / hours.length : 0;
  const total = hours.reduce((sum, h) => sum + h[field], 0);
  const graph = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img",
    "aria-label": `${label} در هر ساعت؛ جمع ${persian(total)}` });
  graph.append(svg("line", { class: "axis", x1: left, y1: height - bottom, x2: width, y2: height - bottom }));
  const scale = svg("text", { x: left - 4, y: top + 4, "text-anchor": "end" });
  scale.textContent = persian(most);
  graph.append(scale);
  hours.forEach((h, i) => {
    const barHeight = ((height - bottom - top) * h[field]) / most;
    const x = width - 6 - (i + 1) * step + step * 0.15;  // right to left: the first hour on the right
    const rect = svg("rect", { class: css, x, y: height - bottom - barHeight, width: step * 0.7, height: barHeight });
    const title = svg("title");
    title.textContent = `ساعت ${h.hour}: ${h[field + "_text"]}`;
    rect.append(title);
    const hour = svg("text", { x: x + step * 0.35, y: height - 6, "text-anchor": "middle" });
    hour.textContent = h.hour;
    const value = svg("text", { x: x + step * 0.35, y: height - bottom - barHeight - 3, "text-anchor": "middle" });
    value.textContent = h[field + "_text"];
    graph.append(rect, hour, value);
  });
  holder.replaceChildren(graph);
}

async function start() {
  $("#sign-in-form").addEventListener("submit", signIn);
  $("#sign-out").addEventListener("click", async () => { await post("/api/sign-out", {}); showSignIn(); });
  const session = await (await fetch("/api/session", { credentials: "same-origin" })).json();
  $("#title").textContent = `داشبورد ناحیهٔ ${session.district}`;
  if (session.signed_in) { csrf = session.csrf; showBoard(session.staff); } else showSignIn();
}

document.addEventListener("DOMContentLoaded", start);
