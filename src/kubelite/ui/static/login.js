// The login page: exchanges the one-time token in the link's fragment for a session cookie.
// The fragment never reaches a server; it is removed from the address bar and the history
// before anything else, so it is not left behind once used.

import { ApiFailure, post } from "./api.js";

const state = document.getElementById("login-state");
const token = location.hash.slice(1);
history.replaceState(null, "", location.pathname + location.search);

async function logIn() {
  if (!token) {
    state.textContent = new URLSearchParams(location.search).has("logged-out")
      ? "You are logged out."
      : "This page needs the login link kubelite printed (it ends in #…).";
    return;
  }
  try {
    await post("/ui/session", { token });
    location.replace("/ui/");
  } catch (err) {
    state.textContent =
      err instanceof ApiFailure ? `Cannot log in: ${err.message}` : "Cannot reach kubelite.";
  }
}

logIn();
