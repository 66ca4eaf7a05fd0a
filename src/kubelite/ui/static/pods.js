// The pods page: every pod of the node (or of one namespace), as `kubectl get pods` shows
// them, kept up to date by the API's watch. The server computes the row (the Table
// response, the same code kubectl's table comes from); only AGE is recomputed here each
// second, as kubectl computes it when it prints.

import { ApiFailure, Watch, columnIndex } from "./api.js";
import { since, statusTone } from "./format.js";
import { el, everySecond, notice, setText, setUpShell } from "./shell.js";

const params = new URLSearchParams(location.search);
let namespace = params.get("namespace") || "";
let podWatch = null;
let namespaceWatch = null;
const rows = new Map(); // uid -> { tr, key, created }

const tbody = document.getElementById("pod-rows");
const select = document.getElementById("namespace");
const table = document.getElementById("pods");
const empty = document.getElementById("no-pods");

function cell(row, columns, name) {
  const i = columnIndex(columns, name);
  return i < 0 ? "" : String(row.cells[i] ?? "");
}

function sortKey(meta) {
  return `${meta.namespace || ""}\u0000${meta.name || ""}`;
}

function renderRow(entry, row, columns) {
  const meta = row.object.metadata;
  const status = cell(row, columns, "Status");
  const [nsCell, nameCell, readyCell, statusCell, restartsCell, ageCell] = entry.tr.children;
  setText(nsCell, meta.namespace || "");
  const link = nameCell.firstChild;
  const href = `/ui/pods/${encodeURIComponent(meta.namespace)}/${encodeURIComponent(meta.name)}`;
  if (link.getAttribute("href") !== href) link.setAttribute("href", href);
  setText(link, meta.name);
  setText(readyCell, cell(row, columns, "Ready"));
  const badge = statusCell.firstChild;
  setText(badge, status);
  badge.className = `status tone-${statusTone(status)}`;
  setText(restartsCell, cell(row, columns, "Restarts"));
  entry.created = meta.creationTimestamp;
  setText(ageCell, since(entry.created, Date.now() / 1000));
}

function newRow() {
  return el(
    "tr",
    {},
    el("td", { class: "col-namespace" }),
    el("td", { class: "col-name" }, el("a", { href: "#" })),
    el("td", { class: "col-ready" }),
    el("td", { class: "col-status" }, el("span", { class: "status" })),
    el("td", { class: "col-restarts" }),
    el("td", { class: "col-age" }),
  );
}

function place(entry) {
  // Keep rows ordered by namespace and name, as the API lists them.
  let before = null;
  for (const other of rows.values()) {
    if (other !== entry && other.key > entry.key && (!before || other.key < before.key)) {
      before = other;
    }
  }
  const next = before ? before.tr : null;
  if (entry.tr.nextSibling !== next || entry.tr.parentNode !== tbody) {
    tbody.insertBefore(entry.tr, next);
  }
}

function upsert(row, columns) {
  const meta = row.object.metadata;
  let entry = rows.get(meta.uid);
  if (!entry) {
    entry = { tr: newRow(), key: sortKey(meta) };
    entry.tr.dataset.uid = meta.uid;
    rows.set(meta.uid, entry);
  }
  entry.tr.dataset.name = meta.name;
  entry.tr.dataset.namespace = meta.namespace;
  renderRow(entry, row, columns);
  place(entry);
}

function remove(uid) {
  const entry = rows.get(uid);
  if (!entry) return;
  entry.tr.remove();
  rows.delete(uid);
}

function showEmpty() {
  empty.hidden = rows.size > 0;
  // kubectl's words for an empty list
  const none = namespace ? `No resources found in ${namespace} namespace.` : "No resources found";
  setText(empty, none);
  table.classList.toggle("all-namespaces", !namespace);
}

function watchPods() {
  podWatch?.stop();
  const path = namespace
    ? `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`
    : "/api/v1/pods";
  podWatch = new Watch(path, {
    table: true,
    onReset(items) {
      const seen = new Set();
      for (const row of items) {
        upsert(row, podWatch.columns);
        seen.add(row.object.metadata.uid);
      }
      for (const uid of [...rows.keys()]) if (!seen.has(uid)) remove(uid);
      showEmpty();
      notice("");
    },
    onEvent(type, row) {
      if (type === "DELETED") remove(row.object.metadata.uid);
      else upsert(row, podWatch.columns);
      showEmpty();
    },
    onError(err) {
      notice(
        err instanceof ApiFailure
          ? `Cannot list pods: ${err.message}`
          : "Lost the connection to kubelite; retrying…",
        { alert: err instanceof ApiFailure },
      );
    },
  }).start();
}

function addNamespaceOption(name) {
  if ([...select.options].some((o) => o.value === name)) return;
  const option = el("option", { value: name }, name);
  const after = [...select.options].find((o) => o.value && o.value > name);
  select.insertBefore(option, after || null);
  if (name === namespace) select.value = name;
}

function watchNamespaces() {
  namespaceWatch = new Watch("/api/v1/namespaces", {
    onReset(items) {
      for (const ns of items) addNamespaceOption(ns.metadata.name);
    },
    onEvent(type, ns) {
      if (type === "ADDED") addNamespaceOption(ns.metadata.name);
    },
  }).start();
}

select.addEventListener("change", () => {
  namespace = select.value;
  const url = new URL(location.href);
  if (namespace) url.searchParams.set("namespace", namespace);
  else url.searchParams.delete("namespace");
  history.replaceState(null, "", url);
  for (const uid of [...rows.keys()]) remove(uid);
  showEmpty();
  watchPods();
});

setUpShell(() => {
  podWatch?.stop();
  namespaceWatch?.stop();
});
if (namespace) addNamespaceOption(namespace);
showEmpty();
watchNamespaces();
watchPods();
everySecond(() => {
  const now = Date.now() / 1000;
  for (const entry of rows.values()) setText(entry.tr.children[5], since(entry.created, now));
});
