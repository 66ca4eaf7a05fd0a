// The pod's events, as `kubectl describe pod` lists them (Type, Reason, Age, From, Message,
// oldest first by last time seen), found as describe finds them (the involved object's name,
// namespace and uid) and kept up to date by a watch; ages tick every second.

import { ApiFailure, Watch } from "./api.js";
import { eventRows } from "./format.js";
import { el, setText } from "./shell.js";

const COLUMNS = ["type", "reason", "age", "from", "message"];

export class PodEvents {
  constructor({ namespace, pod, body, empty }) {
    this.namespace = namespace;
    this.pod = pod;
    this.body = body;
    this.empty = empty;
    this.events = new Map(); // uid -> event
    this.watch = null;
  }

  start(uid) {
    const selector = [
      `involvedObject.name=${this.pod}`,
      `involvedObject.namespace=${this.namespace}`,
    ];
    if (uid) selector.push(`involvedObject.uid=${uid}`);
    this.watch = new Watch(`/api/v1/namespaces/${encodeURIComponent(this.namespace)}/events`, {
      query: { fieldSelector: selector.join(",") },
      onReset: (items) => {
        this.events = new Map(items.map((e) => [e.metadata.uid, e]));
        this.render();
      },
      onEvent: (type, event) => {
        if (type === "DELETED") this.events.delete(event.metadata.uid);
        else this.events.set(event.metadata.uid, event);
        this.render();
      },
      onError: (err) => {
        if (err instanceof ApiFailure) setText(this.empty, `cannot list events: ${err.message}`);
      },
    }).start();
  }

  stop() {
    this.watch?.stop();
  }

  /** Writes the rows, reusing the table's rows so nothing moves that did not change. */
  render() {
    const rows = eventRows([...this.events.values()], Date.now() / 1000);
    while (this.body.rows.length > rows.length) this.body.lastElementChild.remove();
    while (this.body.rows.length < rows.length) {
      const cells = COLUMNS.map((c) => el("td", { class: `col-${c}` }));
      this.body.append(el("tr", {}, ...cells));
    }
    rows.forEach((cells, i) => {
      const tr = this.body.rows[i];
      cells.forEach((text, j) => setText(tr.cells[j], text));
      tr.classList.toggle("warning", cells[0] === "Warning");
    });
    this.empty.hidden = rows.length > 0;
  }
}
