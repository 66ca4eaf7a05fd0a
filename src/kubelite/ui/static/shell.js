// What every page of the web view shares: building elements (text only, never markup from
// data), the logout button, and the notice shown when the session has ended.

import { onSessionEnded, post } from "./api.js";

/** An element with attributes and children (strings become text nodes). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (name === "class") node.className = value;
    else if (name === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

/** Sets a node's text only when it changed (no needless layout or screen-reader noise). */
export function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

/** Shows `message` in the page's notice area (role=status or alert). */
export function notice(message, { alert = false } = {}) {
  const area = document.getElementById("notice");
  if (!area) return;
  area.setAttribute("role", alert ? "alert" : "status");
  area.hidden = !message;
  setText(area, message);
}

export const SESSION_ENDED =
  "Your session has ended (it expired, you logged out, or kubelite restarted). " +
  "Run `kubelite ui-link` for a new login link.";

/** Wires the logout button and the session-ended notice; `stop` ends the page's streams. */
export function setUpShell(stop) {
  onSessionEnded(() => {
    stop();
    notice(SESSION_ENDED, { alert: true });
    document.body.classList.add("session-ended");
  });
  const logout = document.getElementById("logout");
  logout?.addEventListener("click", async () => {
    stop();
    try {
      await post("/ui/logout", {});
    } finally {
      location.assign("/ui/login?logged-out");
    }
  });
}

/** Calls `tick` every second while the page is visible. */
export function everySecond(tick) {
  return setInterval(() => {
    if (document.visibilityState === "visible") tick();
  }, 1000);
}
