// The operator screen: renders the terminal's snapshots and posts the operator's actions; it decides nothing.
"use strict";

const PERSIAN = "۰۱۲۳۴۵۶۷۸۹";
const fa = (value) => String(value).replace(/[0-9]/g, (d) => PERSIAN[Number(d)]);

const DOCUMENTS = { smart_card: "کارت ملی هوشمند", birth_certificate: "شناسنامه", old_card: "کارت ملی قدیمی" };
const VERDICTS = { match: "چهره مطابقت دارد", no_match: "چهره مطابقت ندارد", unavailable: "امتیاز چهره در دسترس نیست",
  pending: "در حال بررسی چهره…" };
const COUNTERS = { issued: "صادرشده", duplicates_refused: "تکراری", ineligible: "غیرمجاز", voided: "باطل" };
const REFUSED_TITLES = { DUPLICATE: "رأی تکراری: تعرفه صادر نمی‌شود", INELIGIBLE: "واجد شرایط نیست: تعرفه صادر نمی‌شود" };
const REMINDER = "ملاک، پاسخ ستاد است، نه مهر شناسنامه؛ شناسنامه همچنان مهر می‌شود.";
const HEAD_REASONS = {
  override: "تأیید با وجود عدم تطابق چهره به رمز رئیس شعبه نیاز دارد؛ این تأیید ثبت و در صورتجلسه شمرده می‌شود.",
  resume: "ادامهٔ رأی‌گیری پس از توقف به رمز رئیس شعبه نیاز دارد و ثبت می‌شود.",
  void: "ممکن است تعرفه‌ای از چاپگر بیرون آمده باشد؛ ابطال آن به رمز رئیس شعبه نیاز دارد و ثبت می‌شود.",
  activate_permit: "کار آفلاین تنها با مجوز ستاد و رمز رئیس شعبه آغاز می‌شود؛ این فعال‌سازی ثبت و به ستاد گزارش می‌شود.",
  accept_permit_activation: "ستاد مجوز کار آفلاین را فعال کرده است؛ آغاز کار آفلاین به رمز رئیس شعبه نیاز دارد "
    + "و ثبت و به ستاد گزارش می‌شود.",
  allow_offline_hit: "صدور تعرفه برای کسی که در فهرست «رأی داده‌اند» ستاد است به رمز رئیس شعبه نیاز دارد؛ "
    + "ثبت می‌شود و ستاد هنگام تطبیق آن را بررسی می‌کند.",
};
const SIGN_IN_PROBLEMS = { wrong_pin: "رمز نادرست است", locked_out: "ورود موقتاً قفل است",
  no_pin_set: "برای این نقش رمزی تعریف نشده است" };

const screen = { signedIn: false, role: null, lockAfterS: 300, snapshot: null, seen: null, events: null, idle: null };

function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes || {})) {
    if (key === "onclick") node.addEventListener("click", value);
    else if (value !== null && value !== undefined && value !== false) node.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

function button(label, action, style, extra) {
  const press = () => {
    const needsHead = screen.snapshot && (screen.snapshot.head_actions || []).includes(action);
    if (needsHead) withHead(action, HEAD_REASONS[action] || HEAD_REASONS.void, extra);
    else act(action, extra ? extra() : {});
  };
  return el("button", { type: "button", class: style || null, "data-action": action, onclick: press }, label);
}

async function post(path, body) {
  const response = await fetch(path, { method: "POST", credentials: "same-origin",
    headers: { "content-type": "application/json" }, body: JSON.stringify(body || {}) });
  let data = {};
  try { data = await response.json(); } catch (_) { data = {}; }
  return { status: response.status, data };
}

function showAlert(text, detail) {
  const alert = document.getElementById("alert");
  alert.replaceChildren(el("span", {}, text), detail ? el("div", { class: "muted", style: null }, detail) : null);
  alert.hidden = false;
}

function clearAlert() { document.getElementById("alert").hidden = true; }

// --- sign-in and the session ---------------------------------------------------------------------

async function boot() {
  const response = await fetch("/api/session", { credentials: "same-origin" });
  const session = await response.json();
  screen.lockAfterS = session.lock_after_s;
  if (session.signed_in) { screen.signedIn = true; screen.role = session.role; await connect(); }
  else renderSignIn();
}

// `target`: the input the keys type into, or a function giving it (the box last touched; none yet: keys do nothing).
function keypad(target, onChange) {
  const pad = el("div", { class: "keypad" });
  const press = (key) => {
    const input = typeof target === "function" ? target() : target;
    if (!input) return;
    if (key === "⌫") input.value = input.value.slice(0, -1);
    else if (key === "پاک") input.value = "";
    else input.value += key;
    onChange(input);
  };
  for (const key of ["۱", "۲", "۳", "۴", "۵", "۶", "۷", "۸", "۹", "⌫", "۰", "پاک"]) {
    pad.append(el("button", { type: "button", "data-key": key, "aria-label": key === "⌫" ? "پاک کردن یک رقم" : key,
      onclick: () => press(key) }, key));
  }
  return pad;
}

const ascii = (text) => text.replace(/[۰-۹]/g, (d) => String(d.charCodeAt(0) - 0x06f0))
  .replace(/[٠-٩]/g, (d) => String(d.charCodeAt(0) - 0x0660));

function renderSignIn(problem) {
  stopEvents();
  screen.signedIn = false; screen.seen = null;
  document.getElementById("lock").hidden = true;
  let role = "operator";
  const pin = el("input", { id: "pin", type: "password", inputmode: "numeric", autocomplete: "off",
    "aria-label": "رمز" });
  const roles = el("div", { class: "buttons", role: "group", "aria-label": "نقش" });
  const choose = (chosen) => {
    role = chosen;
    for (const b of roles.children) b.setAttribute("aria-pressed", String(b.dataset.role === chosen));
  };
  roles.append(
    el("button", { type: "button", "data-role": "operator", onclick: () => choose("operator") }, "کاربر شعبه"),
    el("button", { type: "button", "data-role": "head", onclick: () => choose("head") }, "رئیس شعبه"));
  choose("operator");
  const message = el("p", { id: "sign-in-problem", class: "problem", role: "alert" }, problem || "");
  const submit = async () => {
    const { status, data } = await post("/api/sign-in", { role, pin: ascii(pin.value) });
    pin.value = "";
    if (status === 200 && data.signed_in) { screen.signedIn = true; screen.role = data.role; await connect(); return; }
    let text = SIGN_IN_PROBLEMS[data.problem] || "ورود پذیرفته نشد";
    if (data.problem === "wrong_pin") text += ` (${fa(data.failures)} از ${fa(5)})`;
    if (data.locked_for_s) text += `؛ ${fa(Math.ceil(data.locked_for_s / 60))} دقیقه دیگر دوباره تلاش کنید`;
    message.textContent = text;
  };
  document.getElementById("view").replaceChildren(el("section", { id: "screen-sign-in" },
    el("h1", {}, "ورود به پایانه"), el("p", {}, "نقش خود را برگزینید و رمز را وارد کنید."), roles, pin,
    keypad(pin, () => {}), message, el("div", { class: "buttons" },
      el("button", { type: "button", id: "sign-in", class: "primary", onclick: submit }, "ورود"))));
}

async function signOut() {
  await post("/api/sign-out", {});
  renderSignIn("صفحه قفل شد؛ برای ادامه دوباره وارد شوید.");
}

function touched() {
  clearTimeout(screen.idle);
  if (screen.signedIn) screen.idle = setTimeout(signOut, screen.lockAfterS * 1000);
}

// --- the terminal's snapshots ---------------------------------------------------------------------

function stopEvents() { if (screen.events) { screen.events.close(); screen.events = null; } }

async function connect() {
  document.getElementById("lock").hidden = false;
  touched();
  const response = await fetch("/api/snapshot", { credentials: "same-origin" });
  if (response.status !== 200) { renderSignIn(); return; }
  render(await response.json());
  stopEvents();
  const events = new EventSource("/api/events");
  events.addEventListener("snapshot", (message) => render(JSON.parse(message.data)));
  events.addEventListener("signed_out", () => renderSignIn("زمان نشست به پایان رسید؛ دوباره وارد شوید."));
  events.onerror = async () => {
    if (events.readyState !== EventSource.CLOSED) return;  // the browser reconnects with Last-Event-ID
    const session = await (await fetch("/api/session", { credentials: "same-origin" })).json();
    if (session.signed_in) setTimeout(connect, 1000); else renderSignIn("زمان نشست به پایان رسید؛ دوباره وارد شوید.");
  };
  screen.events = events;
}

function render(snapshot) {
  screen.snapshot = snapshot;
  renderStatus(snapshot.status);
  renderOffline(snapshot.state);
  if (snapshot.seen !== screen.seen) {
    screen.seen = snapshot.seen;
    clearAlert();
    const state = snapshot.state;
    const view = (VIEWS[state.type] || unknown)(state);
    view.id = `screen-${state.type}`;
    view.dataset.state = state.type;
    document.getElementById("view").replaceChildren(view);
  }
  const countdown = document.getElementById("opens-in");
  if (countdown) countdown.textContent = opensIn(snapshot.state);  // the clock's minute moves it, not a step
  const notices = document.getElementById("notices");
  if (notices) {  // what the screen already shows from the state is not repeated
    const shown = new Set([...document.querySelectorAll("main [data-key]")].filter((n) => !notices.contains(n))
      .map((n) => n.textContent));
    notices.replaceChildren(...snapshot.notices.filter((n) => !shown.has(n.text))
      .map((n) => el("p", { class: "notice", "data-key": n.key }, n.text)));
  }
}

function renderOffline(state) {
  // Unmistakable while the terminal issues OFFLINE slips under the district's permit, on every screen.
  const banner = document.getElementById("offline");
  const offline = state.day && state.day.offline;
  banner.hidden = !offline;
  document.body.classList.toggle("offline", Boolean(offline));
  if (offline) {
    banner.textContent = `آفلاین با مجوز ستاد — تعرفهٔ ${offline.issued} از ${offline.limit}، تا ساعت `
      + `${offline.until_clock}`;
  }
}

function renderStatus(status) {
  document.getElementById("training").hidden = !status.training;
  document.getElementById("status-terminal").replaceChildren("شعبهٔ ", el("bdi", {}, status.branch), "، پایانهٔ ",
    el("bdi", {}, status.terminal));
  const link = document.getElementById("status-link");
  link.textContent = status.link.connected ? "ستاد: متصل" : "ستاد: قطع";
  link.className = `pill ${status.link.connected ? "good" : "bad"}`;
  const printer = document.getElementById("status-printer");
  printer.textContent = `چاپگر: ${status.printer ? status.printer.text : "نامعلوم"}`;
  printer.className = `pill ${status.printer && status.printer.state === "ready" ? "good" : "bad"}`;
  document.getElementById("status-devices").replaceChildren(...(status.devices || []).map((device) =>
    el("span", { class: `pill ${device.ok ? "good" : "bad"}`, "data-component": device.component }, device.text)));
  document.getElementById("status-counters").replaceChildren(...Object.entries(COUNTERS).map(([key, label]) =>
    el("span", { class: "counter", "data-counter": key }, `${label}: ${fa(status.counters[key] || 0)}`)));
  document.getElementById("status-clock").textContent = status.clock;
}

async function act(action, extra) {
  touched();
  const { status, data } = await post("/api/action", { action, seen: screen.seen, ...extra });
  if (status === 403 && data.head_refused) return data;
  if (status === 403) { renderSignIn("نشست معتبر نیست؛ دوباره وارد شوید."); return data; }
  if (data.stale) showAlert("صفحه پیش از این کار تغییر کرده بود؛ کاری انجام نشد. صفحه را دوباره ببینید.");
  else if (status === 400 && data.text) showAlert(data.text);
  else if (data.accepted === false) {
    const texts = (data.notices || []).map((n) => n.text);
    showAlert(texts.length ? texts.join(" ") : "این کار در وضعیت کنونی پذیرفته نیست؛ چیزی تغییر نکرد.", data.refusal);
  }
  return data;
}

// --- one view per state ---------------------------------------------------------------------------

const notices = () => el("div", { id: "notices" });
const section = (...children) => el("section", {}, ...children);
const code = (state) => el("p", {}, state.offline_slip ? "کد آفلاین: " : "کد استعلام: ",
  el("span", { class: "big", dir: "ltr" }, state.inquiry_code));
const wait = (title) => () => section(el("h1", {}, title), notices());
const person = (state) => [el("p", { class: "big", id: "voter-name" }, state.name || "—"),
  el("p", {}, `سال تولد: ${state.birth_year || "—"}، مدرک: ${DOCUMENTS[state.document] || state.document}`)];

const opensIn = (state) => (state.opens_in ? `${state.opens_in.text} تا ساعت آغاز` : "ساعت آغاز رسیده است");

const LIVE_EVERY_MS = 300;

function photos(state) {
  const card = state.has_photo
    ? el("img", { id: "card-photo", src: `/api/photo/card?seen=${screen.seen}`, alt: "عکس تراشهٔ کارت" })
    : el("div", { id: "card-photo", class: "no-photo" }, "این مدرک عکس ندارد؛ فرد را با عکس شناسنامه مقایسه کنید.");
  const live = el("img", { id: "live-photo", alt: "تصویر زندهٔ دوربین" });
  const missing = el("div", { class: "no-photo", hidden: true }, "تصویر دوربین در دسترس نیست.");
  let shown = 0;
  const next = () => {
    if (!live.isConnected && shown > 0) return;  // the screen moved on: the camera's view is no longer asked for
    live.src = `/api/photo/live?n=${++shown}`;
  };
  live.addEventListener("load", () => { live.hidden = false; missing.hidden = true; setTimeout(next, LIVE_EVERY_MS); });
  live.addEventListener("error", () => {
    live.hidden = true; missing.hidden = false;
    if (live.isConnected) setTimeout(next, LIVE_EVERY_MS * 5);
  });
  next();
  return el("div", { class: "photos" },
    el("figure", {}, card, el("figcaption", {}, "عکس کارت")),
    el("figure", {}, live, missing, el("figcaption", {}, "دوربین")));
}

function unknown(state) { return section(el("h1", {}, state.type), notices()); }

function typedCodeEntry() {
  let kind = "birth_certificate";
  const input = el("input", { id: "national-code", inputmode: "numeric", autocomplete: "off", maxlength: "20",
    "aria-label": "کد ملی" });
  const feedback = el("p", { id: "code-feedback", class: "problem", "aria-live": "polite" });
  let asked = 0;
  const check = async () => {
    const mine = ++asked;
    if (!input.value) { feedback.textContent = ""; return; }
    const { status, data } = await post("/api/national-code/check", { text: input.value });
    if (mine !== asked || status !== 200) return;
    feedback.textContent = data.text;
    feedback.className = data.valid ? "valid" : "problem";
  };
  input.addEventListener("input", check);
  const kinds = el("div", { class: "buttons", role: "group", "aria-label": "نوع مدرک" });
  const choose = (chosen) => {
    kind = chosen;
    for (const b of kinds.children) b.setAttribute("aria-pressed", String(b.dataset.kind === chosen));
  };
  for (const value of ["birth_certificate", "old_card"]) {
    kinds.append(el("button", { type: "button", "data-kind": value, onclick: () => choose(value) }, DOCUMENTS[value]));
  }
  choose(kind);
  return el("div", {}, el("h2", {}, "ورود دستی کد ملی"), kinds, input, keypad(input, check), feedback,
    el("div", { class: "buttons" }, button("ثبت کد ملی", "type_code", "primary",
      () => ({ text: input.value, document: kind }))));
}

// The district's permit for offline operation: its phone code, typed by the head of branch between voters.
function permitCodeEntry(state) {
  if (!state.day || !state.day.permits_held || state.day.offline) return null;
  if (state.day.activation_offered) {
    return el("div", { id: "permit-offered", class: "permit-entry" }, el("h2", {}, "فعال‌سازی مجوز آفلاین از ستاد"),
      el("p", {}, "ستاد مجوز کار آفلاین این شعبه را فعال کرده است. اگر ستاد پاسخ نمی‌دهد، رئیس شعبه آن را بپذیرد."),
      el("div", { class: "buttons" }, button("آغاز کار آفلاین با رمز رئیس شعبه", "accept_permit_activation", "danger")));
  }
  const input = el("input", { id: "permit-code", inputmode: "numeric", autocomplete: "off", maxlength: "11",
    "aria-label": "کد فعال‌سازی مجوز آفلاین" });
  return el("div", { id: "permit-entry", class: "permit-entry" }, el("h2", {}, "فعال‌سازی مجوز آفلاین"),
    el("p", {}, "ستاد پاسخ نمی‌دهد؟ کدی را که ستاد تلفنی می‌خواند رئیس شعبه اینجا وارد کند."),
    input, keypad(input, () => {}),
    el("div", { class: "buttons" }, button("فعال‌سازی با رمز رئیس شعبه", "activate_permit", "danger",
      () => ({ code: input.value }))));
}

// --- the branch minutes: entered twice, by two officials, each on a blank form ------------------------

const ROLES = { operator: "کاربر شعبه", head: "رئیس شعبه" };
const SEAL_BOXES = 3;

function instructionsPanel() {
  const held = screen.snapshot && screen.snapshot.instructions;
  if (!held) return null;
  return el("details", { id: "instructions", class: "instructions" },
    el("summary", {}, `شیوه‌نامهٔ شمارش: ${held.title}`), el("p", { class: "muted" }, `رسیده در ${held.issued_at}`),
    el("p", { class: "instructions-text" }, held.text));
}

function minutesForm(minutes, submitLabel) {
  const differs = new Set((minutes.mismatch || []).map((m) => m.field));
  let target = null;
  const box = (field, label, attributes) => {
    const input = el("input", { type: "text", inputmode: "numeric", autocomplete: "off", class: "figure",
      "data-field": field, "aria-label": label, "aria-invalid": differs.has(field) ? "true" : null,
      maxlength: "6", ...attributes });
    input.addEventListener("focus", () => { target = input; });
    return input;
  };
  const seals = [...Array(SEAL_BOXES).keys()].map((i) => box(`seals.${i}`, `شمارهٔ پلمب ${fa(i + 1)}`,
    { inputmode: "text", maxlength: "20", class: "seal", "aria-invalid": differs.has("seals") ? "true" : null }));
  const elections = minutes.elections.map((election) => {
    const where = `counts.${election.code}`;
    const figures = minutes.figures.map((figure) => el("label", { class: "figure-box" }, figure.text,
      box(`${where}.${figure.name}`, `${figure.text} (${election.title})`)));
    const votes = election.candidates.map((candidate) => el("label", { class: "figure-box" },
      el("span", {}, candidate.name, el("span", { class: "muted" }, ` (${candidate.code})`)),
      box(`${where}.votes.${candidate.code}`, `آرای ${candidate.name}`)));
    return el("fieldset", { class: "election", "data-election": election.code },
      el("legend", {}, election.title), el("div", { class: "figure-grid" }, ...figures),
      el("h3", {}, "آرای نامزدها"), el("div", { class: "figure-grid" }, ...votes));
  });
  const pad = keypad(() => target, (box) => {
    box.value = box.value.slice(0, Number(box.getAttribute("maxlength")));
    box.focus();
  });
  const read = () => ({
    seals: seals.map((input) => input.value),
    counts: minutes.elections.map((election) => {
      const where = `counts.${election.code}`;
      const value = (field) => form.querySelector(`[data-field="${field}"]`).value;
      const count = { election: election.code };
      for (const figure of minutes.figures) count[figure.name] = value(`${where}.${figure.name}`);
      count.votes = election.candidates.map((c) => ({ candidate: c.code, votes: value(`${where}.votes.${c.code}`) }));
      return count;
    }),
  });
  const submit = async () => {
    for (const input of form.querySelectorAll("input")) input.removeAttribute("aria-invalid");
    const data = await act("enter_minutes", { minutes: read() });
    if (data && data.field) {
      const wrong = form.querySelector(`[data-field="${data.field}"]`) || form.querySelector(`[data-field^="${data.field}"]`);
      if (wrong) { wrong.setAttribute("aria-invalid", "true"); wrong.focus(); }
    }
  };
  const form = el("div", { id: "minutes-form", class: "minutes-form" },
    el("div", { class: "minutes-fields" },
      el("fieldset", { class: "election" }, el("legend", {}, "شمارهٔ پلمب‌های صندوق"),
        el("div", { class: "figure-grid" }, ...seals)),
      ...elections,
      el("div", { class: "buttons" }, el("button", { type: "button", class: "primary", id: "enter-minutes",
        onclick: submit }, submitLabel))),
    el("div", { class: "minutes-pad" }, el("p", { class: "muted" }, "خانه‌ای را بزنید و رقم‌ها را وارد کنید."), pad));
  return form;
}

function fieldName(minutes, mismatch) {
  // A candidate's votes by the candidate's name and the election's title; any other field as the terminal names it.
  const [, code, kind, candidate] = mismatch.field.split(".");
  const election = minutes.elections.find((e) => e.code === code);
  const named = election && kind === "votes" && election.candidates.find((c) => c.code === candidate);
  return named ? `آرای ${named.name} (${election.title})` : mismatch.text;
}

function minutesWanted(state, heading) {
  const minutes = screen.snapshot && screen.snapshot.minutes;
  const parts = [el("h1", {}, heading), instructionsPanel(), notices()];
  if (!minutes || minutes.elections.length === 0) {
    parts.push(el("p", { class: "notice bad" }, "فهرست انتخابات روز در این دستگاه نیست؛ صورتجلسه اینجا وارد نمی‌شود."));
    return parts;
  }
  const held = minutes.first_entry_by;
  if (held && held === screen.role) {
    parts.push(el("p", { class: "notice", id: "minutes-step" },
      `ورود نخست را ${ROLES[held]} انجام داد و نگه داشته شد. برای ورود دوم صفحه را قفل کنید تا `
      + `${ROLES[held === "head" ? "operator" : "head"]} وارد شود و صورتجلسه را جداگانه وارد کند.`),
    el("div", { class: "buttons" }, el("button", { type: "button", class: "primary", id: "minutes-hand-over",
      onclick: signOut }, "قفل صفحه برای عضو دیگر"), button("کنار گذاشتن ورود نخست", "cancel")));
    return parts;
  }
  if (held) {
    parts.push(el("p", { class: "notice", id: "minutes-step" },
      `ورود نخست را ${ROLES[held] || held} انجام داده است (نمایش داده نمی‌شود). شما ${ROLES[screen.role]} هستید: `
      + "صورتجلسه را از روی برگهٔ شمارش، جداگانه وارد کنید."));
  } else if (minutes.mismatch.length) {
    parts.push(el("div", { class: "notice bad", id: "minutes-mismatch" },
      el("p", {}, "دو ورود در این خانه‌ها یکی نبود؛ هیچ‌کدام نگه داشته نشد. دوباره شمارش را ببینید و هر دو عضو از نو وارد کنند:"),
      el("ul", {}, ...minutes.mismatch.map((m) => el("li", { "data-field": m.field }, fieldName(minutes, m))))));
  } else {
    parts.push(el("p", { class: "notice", id: "minutes-step" },
      "صورتجلسهٔ شعبه را دو عضو شعبه جداگانه وارد می‌کنند؛ صورتجلسه فقط وقتی ثبت می‌شود که دو ورود یکی باشد."));
  }
  parts.push(minutesForm(minutes, held ? "ثبت ورود دوم" : "ثبت ورود نخست"));
  if (held) parts.push(el("div", { class: "buttons" }, button("کنار گذاشتن ورود نخست", "cancel")));
  return parts;
}

const MINUTES_STAGES = {
  SendingMinutes: (state) => state.pending ? "ستاد هنوز دریافت را تأیید نکرده است؛ تا پاسخ ستاد دوباره فرستاده می‌شود."
    : "در حال فرستادن صورتجلسه به ستاد…",
  MinutesSent: () => "ستاد صورتجلسهٔ این شعبه را ثبت کرد.",
  MinutesConflict: () => "ستاد صورتجلسهٔ دیگری از این شعبه دارد؛ هر دو نگه داشته شد و ستاد بررسی می‌کند.",
};

function minutesRecorded(state) {
  const minutes = screen.snapshot && screen.snapshot.minutes;
  const recorded = minutes && minutes.recorded;
  const stage = MINUTES_STAGES[state.type](state);
  const parts = [el("h1", {}, "صورتجلسهٔ شعبه ثبت شد"),
    el("p", { class: `notice ${state.type === "MinutesConflict" ? "bad" : state.type === "MinutesSent" ? "good" : ""}`,
      id: "minutes-stage", "data-key": "minutes_stage" }, stage)];
  if (recorded) {
    parts.push(el("p", {}, `واردکنندگان: ${recorded.officials.map((o) => ROLES[o] || o).join(" و ")}، در ${recorded.entered_at}`),
      el("p", {}, `تعرفه‌های صادرشدهٔ این دستگاه: ${fa(recorded.slips_issued)}`
        + (recorded.offline_slips ? `، از آن‌ها آفلاین: ${fa(recorded.offline_slips)}` : "")
        + (recorded.center_committed === null ? "؛ شمار ستاد برای شعبه هنوز نرسیده است"
          : `؛ تعرفه‌های ثبت‌شدهٔ ستاد برای شعبه: ${fa(recorded.center_committed)}`)),
      el("ul", { id: "minutes-checks", class: "checks" }, ...recorded.checks.map((check) => el("li", {
        class: check.passed ? "passed" : "failed", "data-check": check.check, "data-election": check.election },
      `${check.passed ? "✔" : "✘"} ${check.text} (${check.election}): ${fa(check.found)} / ${fa(check.bound)}`))),
      recorded.failed ? el("p", { class: "notice bad" }, `${fa(recorded.failed)} بررسی برقرار نیست؛ در صورتجلسه نوشته شده و ستاد آن را می‌بیند.`) : null,
      el("p", { class: "muted" }, "چکیدهٔ صورتجلسه: ", el("bdi", { dir: "ltr", id: "minutes-hash" }, recorded.hash)));
  }
  parts.push(instructionsPanel(), notices(), el("div", { class: "buttons" },
    button("چاپ دوبارهٔ صورتجلسه", "reprint_minutes", "primary"),
    button("چاپ دوبارهٔ گزارش پایان", "reprint_closing_report")));
  return section(...parts);
}

const VIEWS = {
  Starting: wait("در حال راه‌اندازی…"),
  PollsNotOpen: (state) => section(el("h1", {}, "رأی‌گیری هنوز آغاز نشده است"),
    el("p", {}, `ساعت آغاز: ${state.day.opens_clock}، ساعت پایان: ${state.day.closes_clock}`),
    el("p", { id: "opens-in", class: "big-text" }, opensIn(state)),
    state.notice ? el("p", { class: "notice bad", "data-key": state.notice.key }, state.notice.text) : null,
    el("p", {}, "با زدن «آغاز رأی‌گیری» دستگاه‌ها آزموده و گزارش صفر چاپ می‌شود."), notices(),
    el("div", { class: "buttons" }, button("آغاز رأی‌گیری", "open_polls", "primary"))),
  SelfTesting: wait("آزمون دستگاه‌ها…"),
  PrintingZeroReport: wait("چاپ گزارش صفر…"),
  Opening: wait("در انتظار تأیید آغاز رأی‌گیری از ستاد…"),
  PollsSuspended: () => section(el("h1", {}, "رأی‌گیری موقتاً متوقف است"), notices(),
    el("div", { class: "buttons" }, button("ادامهٔ رأی‌گیری", "resume", "primary"),
      button("پایان رأی‌گیری", "close_polls", "danger"))),
  Closing: wait("پایان رأی‌گیری: در انتظار تأیید ستاد…"),
  PollsClosed: (state) => section(...minutesWanted(state, "رأی‌گیری پایان یافت: صورتجلسهٔ شعبه"),
    el("div", { class: "buttons" }, button("چاپ دوبارهٔ گزارش پایان", "reprint_closing_report"))),
  EnteringMinutes: (state) => section(...minutesWanted(state, state.first_entry_held ? "صورتجلسهٔ شعبه: ورود دوم"
    : "صورتجلسهٔ شعبه: دو ورود یکی نبود"),
    el("div", { class: "buttons" }, button("چاپ دوبارهٔ گزارش پایان", "reprint_closing_report"))),
  SendingMinutes: minutesRecorded,
  MinutesSent: minutesRecorded,
  MinutesConflict: minutesRecorded,
  Idle: (state) => el("section", { class: "columns" },
    el("div", {}, el("h1", {}, "کارت ملی هوشمند را در کارت‌خوان بگذارید"),
      el("p", {}, "برای شناسنامه یا کارت ملی قدیمی، کد ملی را دستی وارد کنید."), notices(),
      el("div", { class: "buttons" }, button("توقف موقت", "suspend"), button("پایان رأی‌گیری", "close_polls", "danger")),
      permitCodeEntry(state)),
    typedCodeEntry()),
  CheckingOffline: (state) => section(el("h1", {}, "آفلاین: بررسی رأی‌دهنده…"), ...person(state),
    el("p", {}, "در تعرفه‌های همین دستگاه و فهرست «رأی داده‌اند» ستاد؛ از ستاد پرسیده نمی‌شود."), notices(),
    el("div", { class: "buttons" }, button("انصراف", "cancel"))),
  SnapshotHit: (state) => section(el("h1", { id: "snapshot-hit" }, "ممکن است پیش‌تر رأی داده باشد"), ...person(state),
    notices(),
    el("p", { class: "muted" }, `نسخهٔ فهرست: ${state.snapshot_version}. این فهرست گاهی کسی را که رأی نداده است `
      + "نیز نشان می‌دهد؛ صدور تعرفه ثبت و هنگام تطبیق بررسی می‌شود."),
    el("div", { class: "buttons" }, button("رد: تعرفه صادر نشود", "reject", "primary"),
      button("صدور با تأیید رئیس شعبه", "allow_offline_hit", "danger"))),
  OfflineRefused: (state) => section(el("h1", {}, "تعرفهٔ آفلاین صادر نمی‌شود"),
    el("p", { class: "notice bad big-text", id: "offline-refusal", "data-key": state.notice.key }, state.notice.text),
    notices(), el("div", { class: "buttons" }, button("متوجه شدم", "dismiss", "primary"))),
  DocumentRejected: (state) => section(el("h1", {}, "مدرک پذیرفته نشد"),
    el("p", { class: "notice bad", "data-key": state.notice.key }, state.notice.text), notices(),
    el("div", { class: "buttons" }, button("متوجه شدم", "dismiss", "primary"))),
  AwaitingConfirmation: (state) => section(el("h1", {}, "تطبیق فرد با مدرک"), el("div", { class: "confirm" },
    photos(state), el("div", {}, ...person(state),
      el("p", {}, el("span", { class: `verdict ${state.face.verdict}`, id: "face-verdict" }, VERDICTS[state.face.verdict])),
      el("p", { class: "muted", "data-key": "face_result" }, state.face.text), notices())),
    el("div", { class: "buttons" }, button("تأیید", "confirm", "primary"), button("رد", "reject", "danger"),
      button("تأیید با وجود عدم تطابق", "override"),
      button("انصراف", "cancel"))),
  CheckingPrinter: (state) => section(el("h1", {}, "بررسی آمادگی چاپگر…"), ...person(state), notices(),
    el("div", { class: "buttons" }, button("انصراف", "cancel"))),
  PrinterNotReady: (state) => section(el("h1", {}, "چاپگر آماده نیست"),
    el("p", { class: "notice bad" }, state.printer.text),
    el("p", {}, "کاغذ را بگذارید یا درِ چاپگر را ببندید، سپس «تلاش دوباره» را بزنید. چیزی از ستاد پرسیده نشده است."),
    notices(), el("div", { class: "buttons" }, button("تلاش دوباره", "retry", "primary"), button("انصراف", "cancel"))),
  Reserving: () => section(el("h1", {}, "در حال استعلام از ستاد…"), el("p", { class: "reminder" }, REMINDER), notices(),
    el("div", { class: "buttons" }, button("انصراف", "cancel"))),
  NoAnswer: () => section(el("h1", {}, "پاسخی از ستاد نرسید"), notices(),
    el("p", { class: "notice bad" }, "تعرفه صادر نمی‌شود. دوباره تلاش کنید، یا اگر رأی‌دهنده رفته است باطل کنید."),
    el("div", { class: "buttons" }, button("تلاش دوباره", "retry", "primary"), button("ابطال", "void", "danger"))),
  AnsweredLate: (state) => section(el("h1", {}, "پاسخ دیرهنگام ستاد"), code(state), notices(),
    el("div", { class: "buttons" }, button("چاپ تعرفه", "confirm", "primary"), button("ابطال", "void", "danger"))),
  VoterRefused: (state) => section(el("h1", {}, REFUSED_TITLES[state.outcome] || "تعرفه صادر نمی‌شود"),
    el("p", { class: "notice bad big-text", id: "refusal", "data-key": state.notice.key }, state.notice.text),
    el("p", { class: "reminder" }, REMINDER), notices(),
    el("div", { class: "buttons" }, button("متوجه شدم", "dismiss", "primary"))),
  Printing: (state) => section(el("h1", {}, state.reprint ? "چاپ دوبارهٔ تعرفه…"
    : state.offline_slip ? "در حال چاپ تعرفهٔ آفلاین…" : "در حال چاپ تعرفه…"), code(state), notices()),
  PrintInterrupted: (state) => section(el("h1", {}, "چاپ تعرفه ناموفق بود"), code(state),
    el("p", { class: "notice bad" }, state.printer ? state.printer.text : "چاپ پیش از راه‌اندازی دوباره قطع شد"),
    el("p", {}, "کاغذ را بگذارید و درِ چاپگر را ببندید، سپس «تلاش دوباره»؛ اگر رأی‌دهنده رفته است «ابطال»."),
    notices(), el("div", { class: "buttons" }, button("تلاش دوباره", "retry", "primary"), button("ابطال", "void", "danger"))),
  Committing: (state) => section(el("h1", {}, "تعرفه صادر شد"), code(state),
    el("p", { class: "notice good" }, "مهر شناسنامه را فراموش نکنید."), notices()),
  RecoveryDecision: (state) => state.question === "did_slip_come_out"
    ? section(el("h1", {}, "پس از راه‌اندازی دوباره: آیا تعرفه کامل بیرون آمد؟"), code(state), notices(),
      el("div", { class: "buttons" }, button("بله، کامل بیرون آمد", "slip_came_out", "primary"),
        button("نه، دوباره چاپ شود", "slip_missing"), button("ابطال", "void", "danger")))
    : section(el("h1", {}, "پس از راه‌اندازی دوباره: تعرفه چاپ نشده است"), code(state), notices(),
      el("div", { class: "buttons" }, button("چاپ تعرفه", "confirm", "primary"), button("ابطال", "void", "danger"))),
};

// --- the head of branch, for an action that needs two officials ----------------------------------

function withHead(action, reason, extra) {
  const dialog = document.getElementById("head-dialog");
  document.getElementById("head-reason").textContent = reason;
  dialog.dataset.action = action;
  const pin = document.getElementById("head-pin");
  const problem = document.getElementById("head-problem");
  pin.value = ""; problem.textContent = "";
  document.getElementById("head-keypad").replaceChildren(...keypad(pin, () => {}).children);
  const reasons = (screen.snapshot && screen.snapshot.state.override_reasons) || [];
  let chosen = null;
  const choices = document.getElementById("head-choices");
  choices.hidden = action !== "override" || reasons.length === 0;
  choices.replaceChildren(...(choices.hidden ? [] : [el("legend", {}, "دلیل تأیید:"), ...reasons.map((r) =>
    el("button", { type: "button", "data-reason": r.key, "aria-pressed": "false", onclick: () => {
      chosen = r.key;
      for (const b of choices.querySelectorAll("button")) b.setAttribute("aria-pressed", String(b.dataset.reason === chosen));
    } }, r.text))]));
  document.getElementById("head-ok").onclick = async () => {
    if (!choices.hidden && chosen === null) { problem.textContent = "دلیل تأیید را برگزینید"; return; }
    const data = await act(action, { ...(extra ? extra() : {}), head_pin: ascii(pin.value),
      ...(choices.hidden ? {} : { reason: chosen }) });
    pin.value = "";
    if (data && data.head_refused) {
      problem.textContent = SIGN_IN_PROBLEMS[data.head_refused] || "رمز رئیس شعبه پذیرفته نشد";
      return;
    }
    dialog.close();
  };
  document.getElementById("head-cancel").onclick = () => dialog.close();
  dialog.showModal();
}

document.addEventListener("pointerdown", touched);
document.addEventListener("keydown", touched);
document.getElementById("lock").addEventListener("click", signOut);
boot();
