// The pod page (/ui/pods/<namespace>/<name>): the pod's `kubectl get` row, its timeline, a
// container's log followed live, its events and its manifest, all kept up to date from one
// watch of the pod (a Table with the whole object in each row) and watches of its events and
// lifecycle record.

import { ApiFailure, SessionEnded, Watch, columnIndex, request } from "./api.js";
import { since, statusTone } from "./format.js";
import { PodEvents } from "./podevents.js";
import { LogFollower } from "./podlogs.js";
import { TimelinePicture } from "./podtimeline.js";
import { everySecond, notice, setText, setUpShell } from "./shell.js";

const [, , , rawNamespace, rawName] = location.pathname.split("/");
const namespace = decodeURIComponent(rawNamespace || "");
const name = decodeURIComponent(rawName || "");
const $ = (id) => document.getElementById(id);

document.title = `${name} · ${namespace} · kubelite`;
setText($("pod-name"), name);
setText($("crumb-namespace"), namespace);
$("crumb-namespace").setAttribute("href", `/ui/?namespace=${encodeURIComponent(namespace)}`);

let created = "";
let eventsStarted = false;
let manifestTimer = null;
let manifestBusy = false;

const logs = new LogFollower({
  namespace,
  pod: name,
  output: $("log"),
  state: $("log-state"),
  picker: $("container"),
});
const events = new PodEvents({
  namespace,
  pod: name,
  body: $("event-rows"),
  empty: $("no-events"),
});
const timeline = new TimelinePicture({
  namespace,
  pod: name,
  figure: $("timeline-figure"),
  image: $("timeline-image"),
  caption: $("timeline-caption"),
});

function cell(row, columns, title) {
  const i = columnIndex(columns, title);
  return i < 0 ? "" : String(row.cells[i] ?? "");
}

function showRow(row, columns) {
  const status = cell(row, columns, "Status");
  const badge = $("pod-status");
  setText(badge, status);
  badge.className = `status tone-${statusTone(status)}`;
  setText($("pod-ready"), cell(row, columns, "Ready"));
  setText($("pod-restarts"), cell(row, columns, "Restarts"));
  setText($("pod-ip"), cell(row, columns, "IP"));
  setText($("pod-node"), cell(row, columns, "Node"));
  created = row.object.metadata.creationTimestamp || "";
  setText($("pod-age"), since(created, Date.now() / 1000));
}

async function loadManifest() {
  if (manifestBusy) {
    scheduleManifest();
    return;
  }
  manifestBusy = true;
  try {
    const ns = encodeURIComponent(namespace);
    const resp = await request(`/ui/api/manifest/${ns}/${encodeURIComponent(name)}.yaml`, {
      accept: "application/yaml",
    });
    setText($("manifest-text"), await resp.text());
  } catch (err) {
    if (err instanceof ApiFailure && err.status !== 404) {
      setText($("manifest-text"), `cannot read the manifest: ${err.message}`);
    } else if (!(err instanceof SessionEnded) && !(err instanceof ApiFailure)) {
      manifestTimer = setTimeout(loadManifest, 2000); // the connection broke: ask again
    }
  } finally {
    manifestBusy = false;
  }
}

function scheduleManifest() {
  clearTimeout(manifestTimer);
  manifestTimer = setTimeout(loadManifest, 400);
}

function podSeen(row, columns) {
  const pod = row.object;
  showRow(row, columns);
  logs.offer(pod, new URLSearchParams(location.search).get("container"));
  logs.podChanged(pod);
  if (!eventsStarted) {
    eventsStarted = true;
    events.start(pod.metadata.uid);
  }
  scheduleManifest();
  notice("");
}

const podWatch = new Watch(`/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`, {
  table: true,
  query: { fieldSelector: `metadata.name=${name}` },
  onReset(items) {
    if (items.length) podSeen(items[0], podWatch.columns);
    else notice(`pods "${name}" not found`, { alert: true });
  },
  onEvent(type, row) {
    if (type === "DELETED") {
      notice(`This pod was deleted; what it last showed stays here.`, { alert: true });
      setText($("pod-status"), "Deleted");
      return;
    }
    podSeen(row, podWatch.columns);
  },
  onError(err) {
    const failed = err instanceof ApiFailure;
    notice(failed ? `Cannot read the pod: ${err.message}` : "Lost the connection; retrying…", {
      alert: failed,
    });
  },
});

setUpShell(() => {
  podWatch.stop();
  events.stop();
  timeline.stop();
  logs.stop();
});
podWatch.start();
timeline.start();
everySecond(() => {
  setText($("pod-age"), since(created, Date.now() / 1000));
  events.render();
});
