// The pod's timeline picture: drawn by the server from the pod's PodLifecycle record
// (kubelite.dev/v1alpha1), fetched again whenever the record changes (a watch on it). The SVG
// is shown as an image (no script in it can run, its styles apply) and its lanes are listed in
// the caption and the image's alternative text, so they can be read without seeing it.

import { ApiFailure, SessionEnded, Watch, request } from "./api.js";
import { setText } from "./shell.js";

const NONE = "no lifecycle record yet";
const RETRY_MS = 2000;

/** The ids of an SVG's lanes ("lane-<container>"), in document order. */
export function laneIds(svgText) {
  const doc = new DOMParser().parseFromString(svgText, "image/svg+xml");
  return [...doc.querySelectorAll("[id^='lane-']")].map((node) => node.id);
}

export class TimelinePicture {
  constructor({ namespace, pod, figure, image, caption }) {
    this.namespace = namespace;
    this.pod = pod;
    this.figure = figure;
    this.image = image;
    this.caption = caption;
    this.busy = false;
    this.again = false;
    this.url = "";
    this.watch = null;
  }

  start() {
    const ns = encodeURIComponent(this.namespace);
    this.watch = new Watch(`/apis/kubelite.dev/v1alpha1/namespaces/${ns}/podlifecycles`, {
      query: { fieldSelector: `metadata.name=${this.pod}` },
      onReset: (items) => (items.length ? this.refresh() : this.none(NONE)),
      onEvent: (type) => {
        if (type === "ADDED" || type === "MODIFIED") this.refresh();
      },
      onError: (err) => {
        if (err instanceof ApiFailure && err.status === 404) this.none(NONE);
        else if (err instanceof ApiFailure) this.none(`cannot read the record: ${err.message}`);
      },
    }).start();
  }

  stop() {
    this.watch?.stop();
  }

  none(message) {
    if (this.url) return; // keep the last picture
    setText(this.caption, message);
  }

  /** Fetches the picture again; calls made meanwhile fold into one more fetch. */
  async refresh() {
    if (this.busy) {
      this.again = true;
      return;
    }
    this.busy = true;
    try {
      do {
        this.again = false;
        await this.fetchOnce();
      } while (this.again);
    } finally {
      this.busy = false;
    }
  }

  async fetchOnce() {
    const ns = encodeURIComponent(this.namespace);
    const path = `/ui/api/timeline/${ns}/${encodeURIComponent(this.pod)}.svg`;
    let text;
    try {
      text = await (await request(path, { accept: "image/svg+xml" })).text();
    } catch (err) {
      if (err instanceof SessionEnded) return;
      if (err instanceof ApiFailure) this.none(err.message);
      else setTimeout(() => this.refresh(), RETRY_MS); // the connection broke: ask again
      return;
    }
    const url = URL.createObjectURL(new Blob([text], { type: "image/svg+xml" }));
    const next = new Image();
    next.src = url;
    try {
      await next.decode(); // swap only a ready picture: no blank frame, no jump
    } catch {
      URL.revokeObjectURL(url);
      return;
    }
    const old = this.url;
    this.url = url;
    this.image.src = url;
    this.image.hidden = false;
    if (old) URL.revokeObjectURL(old);
    const lanes = laneIds(text);
    const names = lanes.map((id) => id.slice("lane-".length));
    this.figure.dataset.lanes = lanes.join(" ");
    this.image.alt = `Timeline of pod ${this.pod}, one lane per container: ${names.join(", ")}`;
    setText(this.caption, `Lanes: ${names.join(", ") || "none"}`);
  }
}
