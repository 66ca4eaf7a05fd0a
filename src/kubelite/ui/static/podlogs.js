// A container's log, followed live through the API's log endpoint (follow=true), as
// `kubectl logs -f` does. One container at a time; init containers and sidecars included.
// When the container is not running yet the API says so (a 400): the message is shown and the
// follow starts again once the pod's status names a new instance of the container.

import { ApiFailure, SessionEnded, chunks, request } from "./api.js";
import { el, setText } from "./shell.js";

const MAX_CHARS = 400_000; // older text is dropped beyond this
const RETRY_MS = 2000;

/** The pod's containers in the order they run: [{name, kind}] (init, sidecar, app, ephemeral). */
export function containersOf(pod) {
  const spec = pod.spec || {};
  const out = [];
  for (const c of spec.initContainers || []) {
    out.push({ name: c.name, kind: c.restartPolicy === "Always" ? "sidecar" : "init" });
  }
  for (const c of spec.containers || []) out.push({ name: c.name, kind: "app" });
  for (const c of spec.ephemeralContainers || []) out.push({ name: c.name, kind: "ephemeral" });
  return out;
}

/** The container's current status in the pod, or null. */
export function containerStatus(pod, name) {
  const status = pod.status || {};
  const all = [
    ...(status.initContainerStatuses || []),
    ...(status.containerStatuses || []),
    ...(status.ephemeralContainerStatuses || []),
  ];
  return all.find((s) => s.name === name) || null;
}

export class LogFollower {
  constructor({ namespace, pod, output, state, picker }) {
    this.namespace = namespace;
    this.pod = pod;
    this.output = output;
    this.state = state;
    this.picker = picker;
    this.container = "";
    this.instance = null; // the containerID the current follow began with
    this.streaming = false;
    this.controller = null;
    this.chars = 0;
    picker.addEventListener("change", () => this.select(picker.value));
  }

  /** Lists the pod's containers in the picker (adding any new ephemeral ones). */
  offer(pod, preferred) {
    for (const c of containersOf(pod)) {
      if ([...this.picker.options].some((o) => o.value === c.name)) continue;
      const label = c.kind === "app" ? c.name : `${c.name} (${c.kind})`;
      this.picker.append(el("option", { value: c.name }, label));
    }
    if (!this.container && this.picker.options.length) {
      const wanted = [...this.picker.options].find((o) => o.value === preferred);
      const first = containersOf(pod).find((c) => c.kind === "app");
      this.picker.value = wanted ? wanted.value : first ? first.name : this.picker.options[0].value;
      this.select(this.picker.value, pod);
    }
  }

  select(name, pod) {
    this.container = name;
    this.restart(pod ? containerStatus(pod, name)?.containerID || "" : "");
  }

  /** The pod changed: follow the container again if a new instance of it appeared. */
  podChanged(pod) {
    if (!this.container) return;
    const id = containerStatus(pod, this.container)?.containerID || "";
    if (id && id !== this.instance) this.restart(id);
  }

  stop() {
    this.controller?.abort();
    this.controller = null;
  }

  restart(instance) {
    this.stop();
    this.instance = instance;
    this.output.textContent = "";
    this.chars = 0;
    this.controller = new AbortController();
    this.follow(this.container, this.controller.signal);
  }

  append(text) {
    const pre = this.output;
    const atBottom = pre.scrollHeight - pre.scrollTop - pre.clientHeight < 24;
    pre.append(document.createTextNode(text));
    this.chars += text.length;
    while (this.chars > MAX_CHARS && pre.firstChild) {
      this.chars -= pre.firstChild.textContent.length;
      pre.firstChild.remove();
    }
    if (atBottom) pre.scrollTop = pre.scrollHeight;
  }

  async follow(container, signal) {
    const base = `/api/v1/namespaces/${encodeURIComponent(this.namespace)}`;
    const query = new URLSearchParams({ container, follow: "true" });
    const url = `${base}/pods/${encodeURIComponent(this.pod)}/log?${query}`;
    setText(this.state, `following ${container}…`);
    try {
      const resp = await request(url, { accept: "text/plain", signal });
      this.output.dataset.following = container;
      for await (const chunk of chunks(resp)) this.append(chunk);
      if (!signal.aborted) setText(this.state, `${container}: the log stream ended`);
    } catch (err) {
      if (signal.aborted || err instanceof SessionEnded) return;
      if (err instanceof ApiFailure) {
        this.instance = null; // follow again when the pod shows the container
        setText(this.state, err.message);
      } else {
        // The connection broke (a browser drops its requests when the machine's network
        // changes, as when a pod's interfaces appear): follow again from the start.
        setText(this.state, `${container}: lost the log stream; following again…`);
        const instance = this.instance;
        setTimeout(() => {
          if (!signal.aborted && this.container === container) this.restart(instance);
        }, RETRY_MS);
      }
    } finally {
      if (this.output.dataset.following === container) delete this.output.dataset.following;
    }
  }
}
