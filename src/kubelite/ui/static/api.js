// Talking to the API server as the web view's session: every request carries the session
// cookie (the browser adds it) and the X-Kubelite-UI header (without it the server ignores
// the cookie). A 401 means the session is over: every page then says so and stops.

export const UI_HEADER = "X-Kubelite-UI";
export const TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io";

const sessionListeners = new Set();

/** Called once when the server no longer knows the session. */
export function onSessionEnded(listener) {
  sessionListeners.add(listener);
}

export class SessionEnded extends Error {
  constructor() {
    super("the session has ended");
  }
}

/** A failed request: `status` is the HTTP code, `reason` and `message` the Status body's. */
export class ApiFailure extends Error {
  constructor(status, body) {
    super((body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.reason = (body && body.reason) || "";
  }
}

let ended = false;

function sessionEnded() {
  if (!ended) {
    ended = true;
    for (const listener of sessionListeners) listener();
  }
  return new SessionEnded();
}

async function failure(resp) {
  let body = null;
  try {
    body = await resp.json();
  } catch {
    body = null;
  }
  return new ApiFailure(resp.status, body);
}

/** fetch() with the session's header; throws SessionEnded on 401, ApiFailure on others. */
export async function request(path, { accept = "application/json", signal } = {}) {
  const resp = await fetch(path, {
    headers: { [UI_HEADER]: "1", Accept: accept },
    credentials: "same-origin",
    cache: "no-store",
    signal,
  });
  if (resp.status === 401) throw sessionEnded();
  if (!resp.ok) throw await failure(resp);
  return resp;
}

export async function getJSON(path, options) {
  return (await request(path, options)).json();
}

/** POST to one of the web view's own endpoints (login, logout): JSON, with the header. */
export async function post(path, body) {
  const resp = await fetch(path, {
    method: "POST",
    headers: { [UI_HEADER]: "1", "Content-Type": "application/json" },
    credentials: "same-origin",
    cache: "no-store",
    body: JSON.stringify(body),
  });
  if (!resp.ok) throw await failure(resp);
  return resp;
}

/** The text of a streamed response, chunk by chunk, as it arrives. */
export async function* chunks(resp) {
  const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}

/** The lines of a streamed response (a watch: one JSON event a line). */
export async function* lines(resp) {
  let buffer = "";
  for await (const chunk of chunks(resp)) {
    buffer += chunk;
    let end;
    while ((end = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, end);
      buffer = buffer.slice(end + 1);
      if (line.trim()) yield line;
    }
  }
  if (buffer.trim()) yield buffer;
}

export function sleep(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

class Gone extends Error {}

/**
 * A collection listed, then watched, as client-go's reflector does: `onReset(items)` after
 * every list, `onEvent(type, item)` for every change after it. A watch that ends is resumed
 * from the last resourceVersion seen (bookmarks included); one whose version has expired (410)
 * lists again. With `table`, items are Table rows (`cells`, `object`) and `columns` holds the
 * column definitions. A 403 or 404 is final: `onError` hears of it and the watch stops; other
 * failures are retried with a growing pause.
 */
export class Watch {
  constructor(path, { table = false, query = {}, onReset, onEvent, onError = () => {} }) {
    this.path = path;
    this.table = table;
    this.query = query;
    this.onReset = onReset;
    this.onEvent = onEvent;
    this.onError = onError;
    this.columns = [];
    this.version = "";
    this.controller = new AbortController();
  }

  start() {
    this.done = this.run();
    return this;
  }

  stop() {
    this.controller.abort();
  }

  url(extra) {
    const params = new URLSearchParams({ ...this.query, ...extra });
    return `${this.path}?${params}`;
  }

  get accept() {
    return this.table ? TABLE : "application/json";
  }

  async run() {
    const signal = this.controller.signal;
    let pause = 1000;
    while (!signal.aborted) {
      try {
        if (!this.version) await this.list(signal);
        await this.follow(signal);
        pause = 1000;
      } catch (err) {
        if (signal.aborted || err instanceof SessionEnded) return;
        if (err instanceof Gone) {
          this.version = "";
          continue;
        }
        this.onError(err);
        if (err instanceof ApiFailure && (err.status === 403 || err.status === 404)) return;
        await sleep(pause, signal);
        pause = Math.min(pause * 2, 30000);
      }
    }
  }

  async list(signal) {
    const extra = this.table ? { includeObject: "Object" } : {};
    const body = await getJSON(this.url(extra), { accept: this.accept, signal });
    if (this.table) this.columns = body.columnDefinitions || [];
    this.version = body.metadata?.resourceVersion || "";
    this.onReset(this.table ? body.rows || [] : body.items || []);
  }

  async follow(signal) {
    const extra = {
      watch: "1",
      resourceVersion: this.version,
      allowWatchBookmarks: "true",
      timeoutSeconds: String(300 + Math.floor(Math.random() * 300)),
    };
    if (this.table) extra.includeObject = "Object";
    const resp = await request(this.url(extra), { accept: this.accept, signal });
    for await (const line of lines(resp)) {
      this.handle(JSON.parse(line));
    }
  }

  handle(event) {
    const object = event.object || {};
    if (event.type === "ERROR") {
      if (object.code === 410) throw new Gone();
      throw new ApiFailure(object.code || 500, object);
    }
    if (event.type === "BOOKMARK") {
      this.version = object.metadata?.resourceVersion || this.version;
      return;
    }
    let item = object;
    if (this.table) {
      if (object.columnDefinitions) this.columns = object.columnDefinitions;
      item = (object.rows || [])[0];
      if (!item) return;
    }
    const version = (this.table ? item.object : item)?.metadata?.resourceVersion;
    if (version) this.version = version;
    this.onEvent(event.type, item);
  }
}

/** The index of a Table column by its name ("Status"), or -1. */
export function columnIndex(columns, name) {
  return columns.findIndex((c) => c.name === name);
}
