// The desk page: sign in with a desk token, follow alerts live, manage watches and the desk's own entities,
// and read what a watch's look back found (its history, kept apart from the live alerts).
// Everything that came from a feed is put into the page as text (textContent / text nodes), never as HTML.
// The token stays in sessionStorage and goes only into the Authorization header: EventSource cannot send
// headers, so the live stream is read with fetch() and a ReadableStream.
"use strict";

const TOKEN_KEY = "wirewatch.token";
const MAX_ALERTS = 200;
const HISTORY_POLL_MS = 2000;
const $ = (id) => document.getElementById(id);
let streamAbort = null;
let lastEventId = null;
let knownEntities = new Map(); // desk-entity id -> entity view (the desk's own and the global ones)
const openHistories = new Set(); // watch ids whose history panel is open (kept across list reloads)
const historyTimers = new Map(); // watch id -> pending re-poll while its look back runs

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
  await loadEntities();
  await loadWatches();
  await loadRecentAlerts();
  follow();
}

function signOut(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  if (streamAbort) streamAbort.abort();
  streamAbort = null;
  lastEventId = null;
  for (const timer of historyTimers.values()) clearTimeout(timer);
  historyTimers.clear();
  openHistories.clear();
  knownEntities = new Map();
  $("alerts").replaceChildren();
  $("watches").replaceChildren();
  $("entities").replaceChildren();
  $("entity-options").replaceChildren();
  $("entity-warnings").replaceChildren();
  for (const id of ["watch-error", "entity-error"]) $(id).textContent = "";
  $("who").textContent = "";
  $("desk").hidden = true;
  $("sign-out").hidden = true;
  $("sign-in").hidden = false;
  $("sign-in-error").textContent = message || "";
}

// ---------------------------------------------------------------- entities
// Aliases and context words are typed comma- or newline-separated.
function listOf(text) {
  return text.split(/[,\n]/).map((part) => part.trim()).filter(Boolean);
}

async function loadEntities() {
  const { entities } = await api("/api/v1/entities");
  knownEntities = new Map(entities.map((entity) => [entity.id, entity]));
  $("entities").replaceChildren(...entities.map(entityItem));
  $("entity-options").replaceChildren(...entities.map((entity) => {
    const option = el("option");
    option.value = entity.id;
    option.label = `${entity.name} · ${entity.type}${entity.desk === null ? " · global" : ""}`;
    return option;
  }));
}

function entityItem(entity) {
  const item = el("li", entity.desk === null ? "entity global" : "entity");
  item.dataset.entityId = entity.id;
  const head = el("div", "entity-head");
  head.append(el("span", "name", entity.name), el("span", "badge type", entity.type));
  if (entity.desk === null) head.append(el("span", "badge global", "global"));
  head.append(" ", el("code", "id", entity.id));
  const details = el("div", "details");
  if (entity.aliases.length) details.append(el("div", "aliases", `also: ${entity.aliases.join(", ")}`));
  if (entity.context.length) details.append(el("div", "context", `context: ${entity.context.join(", ")}`));
  if (entity.needs_context.length) {
    details.append(el("div", "needs-context", `only with a context word: ${entity.needs_context.join(", ")}`));
  }
  const flags = [entity.wikidata_id ? `Wikidata ${entity.wikidata_id}` : null, entity.case_sensitive ? "case-sensitive" : null];
  if (flags.some(Boolean)) details.append(el("div", "flags", flags.filter(Boolean).join(" · ")));
  item.append(head, details);
  if (entity.desk !== null) { // a global entity is the admin's to remove
    const remove = el("button", null, "Remove");
    remove.type = "button";
    remove.dataset.action = "remove";
    remove.addEventListener("click", async () => {
      remove.disabled = true;
      $("entity-error").textContent = "";
      try {
        await api(`/api/v1/entities/${encodeURIComponent(entity.id)}`, { method: "DELETE" });
        item.remove();
        await loadEntities();
      } catch (err) {
        if (err.message !== "unauthorized") $("entity-error").textContent = err.message;
        remove.disabled = false;
      }
    });
    item.append(remove);
  }
  return item;
}

async function addEntity(event) {
  event.preventDefault();
  $("entity-error").textContent = "";
  $("entity-warnings").replaceChildren();
  const body = {
    name: $("entity-name").value.trim(),
    type: $("entity-type").value,
    aliases: listOf($("entity-aliases").value),
    context: listOf($("entity-context").value),
    case_sensitive: $("entity-case").checked,
  };
  const wikidata = $("entity-wikidata").value.trim();
  if (wikidata) body.wikidata_id = wikidata;
  try {
    const created = await api("/api/v1/entities", { method: "POST", body: JSON.stringify(body) });
    $("entity-form").reset();
    $("entity-warnings").replaceChildren(...(created.warnings || []).map((warning) => el("li", null, warning)));
    await loadEntities();
  } catch (err) {
    if (err.message !== "unauthorized") $("entity-error").textContent = err.message;
  }
}

// ---------------------------------------------------------------- watches
async function loadWatches() {
  const { watches } = await api("/api/v1/watches");
  const listed = new Set(watches.map((watch) => watch.watch_id));
  for (const id of [...openHistories]) if (!listed.has(id)) stopHistory(id);
  $("watches").replaceChildren(...watches.map(watchItem));
}

// A desk entity by its name (the id is in the tooltip); a registry id as it is.
function entityName(id) {
  const entity = knownEntities.get(id);
  return entity ? entity.name : id;
}

function watchItem(watch) {
  const item = el("li", "watch");
  item.dataset.watchId = watch.watch_id;
  const row = el("div", "watch-row");
  const label = el("span", "label");
  watch.entities.forEach((id, n) => {
    if (n) label.append(" + ");
    const name = el("span", "entity", entityName(id));
    name.title = id;
    label.append(name);
  });
  label.append(` · ${watch.scope}`, " ");
  if (watch.surges) label.append(el("span", "badge surge", "surges"), " ");
  label.append(el("code", null, watch.watch_id));

  const history = historyPanel(watch);
  const toggle = el("button", null, "History");
  toggle.type = "button";
  toggle.dataset.action = "history";
  toggle.setAttribute("aria-expanded", "false");
  toggle.setAttribute("aria-controls", history.id);
  toggle.addEventListener("click", () => {
    if (history.hidden) openHistory(item, watch.watch_id);
    else closeHistory(item, watch.watch_id);
  });

  const remove = el("button", null, "Remove");
  remove.type = "button";
  remove.dataset.action = "remove";
  remove.addEventListener("click", async () => {
    remove.disabled = true;
    try {
      await api(`/api/v1/watches/${encodeURIComponent(watch.watch_id)}`, { method: "DELETE" });
      stopHistory(watch.watch_id);
      item.remove();
    } catch (err) {
      if (err.message !== "unauthorized") $("watch-error").textContent = err.message;
      remove.disabled = false;
    }
  });
  const actions = el("span", "actions");
  actions.append(toggle, remove);
  row.append(label, actions);
  item.append(row, history);
  if (openHistories.has(watch.watch_id)) openHistory(item, watch.watch_id);
  return item;
}

async function addWatch(event) {
  event.preventDefault();
  $("watch-error").textContent = "";
  const body = {
    entities: [$("entity-a").value.trim(), $("entity-b").value.trim()],
    scope: $("scope").value,
    state_sourced_only: $("state-only").checked,
    surges: $("surges").checked,
  };
  const since = $("since").value.trim();
  if (since) body.since = since;
  try {
    await api("/api/v1/watches", { method: "POST", body: JSON.stringify(body) });
    $("watch-form").reset();
    await loadWatches();
  } catch (err) {
    if (err.message !== "unauthorized") $("watch-error").textContent = err.message;
  }
}

// ---------------------------------------------------------------- watch history (look backs)
// What a look back found in the retained articles: its own panel under the watch, never in the live alerts.
function historyPanel(watch) {
  const panel = el("section", "history");
  panel.id = `history-${watch.watch_id}`;
  panel.hidden = true;
  panel.setAttribute("aria-label", `History of watch ${watch.watch_id}`);
  panel.append(
    el("h3", null, "History · look back"),
    el("p", "lookback"),
    el("ul", "lookback-errors"),
    el("p", "error history-error"),
    el("p", "empty"),
    el("ol", "stories"),
  );
  panel.querySelector(".lookback").setAttribute("role", "status");
  return panel;
}

function openHistory(item, watchId) {
  openHistories.add(watchId);
  item.querySelector(".history").hidden = false;
  item.querySelector('[data-action="history"]').setAttribute("aria-expanded", "true");
  refreshHistory(item, watchId);
}

function closeHistory(item, watchId) {
  stopHistory(watchId);
  item.querySelector(".history").hidden = true;
  item.querySelector('[data-action="history"]').setAttribute("aria-expanded", "false");
}

function stopHistory(watchId) {
  openHistories.delete(watchId);
  clearTimeout(historyTimers.get(watchId));
  historyTimers.delete(watchId);
}

async function refreshHistory(item, watchId) {
  clearTimeout(historyTimers.get(watchId));
  historyTimers.delete(watchId);
  const panel = item.querySelector(".history");
  let running = false;
  try {
    const history = await api(`/api/v1/watches/${encodeURIComponent(watchId)}/history`);
    if (!item.isConnected || panel.hidden) return;
    panel.querySelector(".history-error").textContent = "";
    showHistory(panel, history);
    running = history.lookback !== null && history.lookback.state === "running";
  } catch (err) {
    if (err.message === "unauthorized" || !item.isConnected) return;
    panel.querySelector(".history-error").textContent = err.message;
    running = panel.querySelector(".lookback").dataset.state === "running"; // it may still be going: try again
  }
  if (running && item.isConnected && !panel.hidden && openHistories.has(watchId)) {
    historyTimers.set(watchId, setTimeout(() => refreshHistory(item, watchId), HISTORY_POLL_MS));
  }
}

const count = (n) => Number(n).toLocaleString("en-US");

function lookbackText(status) {
  if (status === null) return "No look back results for this watch.";
  const matches = `${count(status.matches)} ${status.matches === 1 ? "match" : "matches"}`;
  return `${status.state}: ${count(status.scanned)}/${count(status.total)} articles, ${matches}`;
}

function showHistory(panel, history) {
  const status = history.lookback;
  const line = panel.querySelector(".lookback");
  line.textContent = lookbackText(status);
  line.dataset.state = status === null ? "none" : status.state;
  if (status !== null) line.title = `${status.lookback_id}: ${status.jobs_done}/${status.jobs} jobs done`;
  panel.querySelector(".lookback-errors").replaceChildren(
    ...(status === null ? [] : status.errors).map((error) => el("li", "error", error)),
  );
  panel.querySelector(".empty").textContent = history.stories.length ? "" : "No matches.";
  panel.querySelector(".stories").replaceChildren(...history.stories.map(storyItem));
}

function storyLink(article, className) {
  const link = el("a", className, article.title || article.url);
  if (/^https?:\/\//i.test(article.url)) link.href = article.url;
  link.rel = "noopener noreferrer";
  link.target = "_blank";
  return link;
}

function storyItem(story) {
  const entry = el("li", "story");
  entry.dataset.storyId = story.story_id;
  entry.append(el("div", "pair", story.entities.map((e) => e.name).join(" + ")));
  entry.append(storyLink(story.article, "title"));
  const published = story.article.published ? new Date(story.article.published).toLocaleString() : "undated";
  const articles = `${count(story.article_count)} ${story.article_count === 1 ? "article" : "articles"}`;
  entry.append(el("div", "meta", `${story.article.source.name} · ${published} · first seen ${new Date(story.first_seen).toLocaleString()} · ${articles}`));
  const terms = story.entities.map((e) => ({ text: e.name, kind: "entity" }));
  for (const sentence of story.evidence) {
    const quote = el("blockquote", "evidence");
    quote.append(highlighted(sentence, terms));
    entry.append(quote);
  }
  const later = (story.articles || []).filter((article) => article.id !== story.article.id);
  if (later.length) {
    const list = el("ul", "articles");
    for (const article of later) {
      const line = el("li");
      line.append(storyLink(article, null), ` · ${article.source.name}`);
      list.append(line);
    }
    entry.append(list);
  }
  return entry;
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
  if (alert.kind === "surge") head.append(el("span", "badge surge", "surge"));
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
  if (alert.kind === "surge" && alert.surge) entry.append(surgeFigures(alert.surge));
  for (const sentence of alert.evidence) {
    const quote = el("blockquote", "evidence");
    quote.append(highlighted(sentence, terms));
    entry.append(quote);
  }
  $("alerts").prepend(entry);
  while ($("alerts").children.length > MAX_ALERTS) $("alerts").lastElementChild.remove();
}

// A surge's figures: the window's count against what the watch's recent days expect, and the stories behind it.
function surgeFigures(surge) {
  const box = el("div", "surge");
  const minutes = Math.round(surge.window_s / 60);
  box.append(el("div", "meta", `${surge.count} articles in ${minutes} min; about ${surge.expected.toFixed(1)} expected`));
  const stories = el("ol", "stories");
  for (const story of surge.top_stories) {
    const item = el("li");
    const link = el("a", "", story.title || story.url);
    if (/^https?:\/\//i.test(story.url)) link.href = story.url;
    link.rel = "noopener noreferrer";
    link.target = "_blank";
    item.append(link, el("span", "meta", ` · ${story.articles} articles`));
    stories.append(item);
  }
  box.append(stories);
  return box;
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
  $("entity-form").addEventListener("submit", addEntity);
  if (sessionStorage.getItem(TOKEN_KEY)) signIn(sessionStorage.getItem(TOKEN_KEY)).catch(() => {});
});
