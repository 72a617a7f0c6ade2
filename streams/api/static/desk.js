// The desk page: sign in with a desk token, follow alerts live, manage watches.
// Everything that came from a feed is put into the page as text (textContent / text nodes), never as HTML.
// The token stays in sessionStorage and goes only into the Authorization header: EventSource cannot send
// headers, so the live stream is read with fetch() and a ReadableStream.
"use strict";

const TOKEN_KEY = "wirewatch.token";
const MAX_ALERTS = 200;
const $ = (id) => document.getElementById(id);
let streamAbort = null;
let lastEventId = null;

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

async function api(path, options = {}) {
  const headers = { Authorization: `Bearer ${sessionStorage.getItem(TOKEN_KEY)}` };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, { ...options, headers: { ...headers, ...(options.headers || {}) } });
  if (response.status === 401) {
    signOut("The token is not (or no longer) valid.");
    throw new Error("unauthorized");
  }
  if (!response.ok) {
    let detail = `HTTP ${response.status}`;
    try { detail = (await response.json()).detail || detail; } catch (_) { /* not JSON */ }
    throw new Error(detail);
  }
  return response.status === 204 ? null : response.json();
}

// ---------------------------------------------------------------- sign in / out
async function signIn(token) {
  sessionStorage.setItem(TOKEN_KEY, token);
  const health = await api("/api/v1/health");
  if (!health.desk) {
    signOut("That is the admin token: sign in with a desk token.");
    return;
  }
  $("who").textContent = `desk ${health.desk}`;
  $("sign-in").hidden = true;
  $("desk").hidden = false;
  $("sign-out").hidden = false;
  await loadWatches();
  await loadRecentAlerts();
  follow();
}

function signOut(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  if (streamAbort) streamAbort.abort();
  streamAbort = null;
  lastEventId = null;
  $("alerts").replaceChildren();
  $("watches").replaceChildren();
  $("who").textContent = "";
  $("desk").hidden = true;
  $("sign-out").hidden = true;
  $("sign-in").hidden = false;
  $("sign-in-error").textContent = message || "";
}

// ---------------------------------------------------------------- watches
async function loadWatches() {
  const { watches } = await api("/api/v1/watches");
  $("watches").replaceChildren(...watches.map(watchItem));
}

function watchItem(watch) {
  const item = el("li");
  item.dataset.watchId = watch.watch_id;
  const label = el("span", null, `${watch.entities.join(" + ")} · ${watch.scope}`);
  label.append(" ", el("code", null, watch.watch_id));
  const remove = el("button", null, "Remove");
  remove.type = "button";
  remove.addEventListener("click", async () => {
    remove.disabled = true;
    try {
      await api(`/api/v1/watches/${encodeURIComponent(watch.watch_id)}`, { method: "DELETE" });
      item.remove();
    } catch (err) {
      $("watch-error").textContent = err.message;
      remove.disabled = false;
    }
  });
  item.append(label, remove);
  return item;
}

async function addWatch(event) {
  event.preventDefault();
  $("watch-error").textContent = "";
  const body = {
    entities: [$("entity-a").value.trim(), $("entity-b").value.trim()],
    scope: $("scope").value,
    state_sourced_only: $("state-only").checked,
  };
  try {
    await api("/api/v1/watches", { method: "POST", body: JSON.stringify(body) });
    $("watch-form").reset();
    await loadWatches();
  } catch (err) {
    $("watch-error").textContent = err.message;
  }
}

// ---------------------------------------------------------------- alerts
async function loadRecentAlerts() {
  const page = await api("/api/v1/alerts?limit=50");
  for (const item of page.alerts.slice().reverse()) showAlert(item, false);
  lastEventId = page.stream_cursor;
}

// Text with every occurrence of the given terms wrapped in <mark>, built from text nodes only.
function highlighted(text, terms) {
  const fragment = document.createDocumentFragment();
  const wanted = terms.filter((t) => t.text && t.text.length > 1);
  let at = 0;
  const lower = text.toLowerCase();
  while (at < text.length) {
    let best = null;
    for (const term of wanted) {
      const found = lower.indexOf(term.text.toLowerCase(), at);
      if (found >= 0 && (best === null || found < best.start || (found === best.start && term.text.length > best.term.text.length))) {
        best = { start: found, term };
      }
    }
    if (best === null) break;
    fragment.append(document.createTextNode(text.slice(at, best.start)));
    fragment.append(el("mark", best.term.kind, text.slice(best.start, best.start + best.term.text.length)));
    at = best.start + best.term.text.length;
  }
  fragment.append(document.createTextNode(text.slice(at)));
  return fragment;
}

function showAlert(item, fresh) {
  const alert = item.alert;
  if (document.querySelector(`[data-alert-id="${CSS.escape(alert.alert_id)}"]`)) return;
  const entry = el("li", fresh ? "alert fresh" : "alert");
  entry.dataset.alertId = alert.alert_id;
  entry.dataset.cursor = item.cursor;

  const head = el("div");
  head.append(el("span", "pair", alert.entities.map((e) => e.name).join(" + ")));
  const sm = alert.state_media || {};
  if (sm.state_sourced) {
    const outlets = (sm.cited || []).map((c) => `${c.name} (${c.role})`);
    if (sm.publisher) outlets.unshift(`${sm.publisher.name} (publisher)`);
    head.append(el("span", "badge state", `state media${outlets.length ? ": " + outlets.join(", ") : ""}`));
  } else if ((sm.cited || []).length) {
    head.append(el("span", "badge cited", `cites ${sm.cited.map((c) => c.name).join(", ")}`));
  }

  const title = el("a", "title", alert.article.title || alert.article.url);
  if (/^https?:\/\//i.test(alert.article.url)) title.href = alert.article.url;
  title.rel = "noopener noreferrer";
  title.target = "_blank";

  const published = alert.article.published ? new Date(alert.article.published).toLocaleString() : "undated";
  const meta = el("div", "meta", `${alert.article.source.name} · ${published} · fired ${new Date(alert.fired_at).toLocaleTimeString()}`);

  const terms = [
    ...alert.entities.map((e) => ({ text: e.name, kind: "entity" })),
    ...(sm.cited || []).flatMap((c) => (c.evidence || []).map((m) => ({ text: m.text, kind: "source" }))),
  ];
  entry.append(head, title, meta);
  for (const sentence of alert.evidence) {
    const quote = el("blockquote", "evidence");
    quote.append(highlighted(sentence, terms));
    entry.append(quote);
  }
  $("alerts").prepend(entry);
  while ($("alerts").children.length > MAX_ALERTS) $("alerts").lastElementChild.remove();
}

// ---------------------------------------------------------------- live stream (SSE over fetch)
async function follow() {
  let retryMs = 3000;
  while (sessionStorage.getItem(TOKEN_KEY)) {
    streamAbort = new AbortController();
    try {
      const headers = { Authorization: `Bearer ${sessionStorage.getItem(TOKEN_KEY)}`, Accept: "text/event-stream" };
      if (lastEventId) headers["Last-Event-ID"] = lastEventId;
      const response = await fetch("/api/v1/alerts/stream", { headers, signal: streamAbort.signal });
      if (response.status === 401) { signOut("The token is not (or no longer) valid."); return; }
      if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
      $("stream-state").textContent = "· live";
      await readEvents(response.body, (field, value) => {
        if (field === "retry") retryMs = Number(value) || retryMs;
      });
    } catch (err) {
      if (streamAbort && streamAbort.signal.aborted) return;
    }
    $("stream-state").textContent = "· reconnecting";
    await new Promise((resolve) => setTimeout(resolve, retryMs));
  }
}

async function readEvents(body, onField) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let event = { type: "message", data: [], id: null };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let newline;
    while ((newline = buffer.search(/\r\n|\r|\n/)) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + (buffer.startsWith("\r\n", newline) ? 2 : 1));
      if (line === "") {
        if (event.id !== null) lastEventId = event.id;
        if (event.data.length) dispatch(event.type, event.data.join("\n"));
        event = { type: "message", data: [], id: null };
        continue;
      }
      if (line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const val = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "data") event.data.push(val);
      else if (field === "event") event.type = val;
      else if (field === "id") event.id = val;
      else onField(field, val);
    }
  }
}

function dispatch(type, data) {
  if (type === "alert") showAlert(JSON.parse(data), true);
  else if (type === "reset") {
    $("status").textContent = "Some alerts were beyond the replay window: reloading recent alerts.";
    loadRecentAlerts().catch(() => {});
  }
}

// ---------------------------------------------------------------- start
document.addEventListener("DOMContentLoaded", () => {
  $("sign-in-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    $("sign-in-error").textContent = "";
    try { await signIn($("token").value.trim()); $("token").value = ""; }
    catch (err) { if (err.message !== "unauthorized") $("sign-in-error").textContent = err.message; }
  });
  $("sign-out").addEventListener("click", () => signOut(""));
  $("watch-form").addEventListener("submit", addWatch);
  if (sessionStorage.getItem(TOKEN_KEY)) signIn(sessionStorage.getItem(TOKEN_KEY)).catch(() => {});
});
