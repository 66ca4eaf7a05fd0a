// Time and events written as kubectl writes them. Pure functions: the tests run them in the
// browser against kubelite's own Python (model/podprint.human_duration) on a table of cases.

/** apimachinery's HumanDuration: about two significant figures ("5m", "3h12m", "2y30d"). */
export function humanDuration(seconds) {
  const s = Math.trunc(seconds);
  if (s < -1) return "<invalid>";
  if (s < 0) return "0s";
  if (s < 120) return `${s}s`;
  const minutes = Math.trunc(s / 60);
  if (minutes < 10) return s % 60 === 0 ? `${minutes}m` : `${minutes}m${s % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.trunc(s / 3600);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  const days = Math.trunc(hours / 24);
  if (hours < 24 * 8) return hours % 24 === 0 ? `${days}d` : `${days}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${days}d`;
  const years = Math.trunc(days / 365);
  if (hours < 24 * 365 * 8 && days % 365 !== 0) return `${years}y${days % 365}d`;
  return `${years}y`;
}

/** Seconds since the epoch of an RFC 3339 timestamp, or null if there is none. */
export function epochSeconds(timestamp) {
  if (!timestamp) return null;
  const ms = Date.parse(timestamp);
  return Number.isNaN(ms) ? null : ms / 1000;
}

/** kubectl's translateTimestampSince: "<unknown>" for no time, else the age at `now`. */
export function since(timestamp, now) {
  const t = epochSeconds(timestamp);
  return t === null ? "<unknown>" : humanDuration(now - t);
}

/** The Age column of `kubectl describe`'s Events: "5s", or "2m (x3 over 5m)". */
export function eventAge(event, now) {
  const first = event.eventTime
    ? since(event.eventTime, now)
    : since(event.firstTimestamp, now);
  if (event.series) {
    return `${since(event.series.lastObservedTime, now)} (x${event.series.count} over ${first})`;
  }
  if ((event.count || 0) > 1) {
    return `${since(event.lastTimestamp, now)} (x${event.count} over ${first})`;
  }
  return first;
}

/** The From column: the source component, else the reporting controller. */
export function eventSource(event) {
  return event.source?.component || event.reportingController || "";
}

/** Events in `kubectl describe`'s order: by lastTimestamp, oldest first (stable). */
export function sortEvents(events) {
  const key = (e) => epochSeconds(e.lastTimestamp) ?? 0;
  return [...events].sort((a, b) => key(a) - key(b));
}

/** The rows `kubectl describe pod` prints under Events, as [type, reason, age, from, message]. */
export function eventRows(events, now) {
  return sortEvents(events).map((e) => [
    e.type || "",
    e.reason || "",
    eventAge(e, now),
    eventSource(e),
    (e.message || "").trim(),
  ]);
}

/** A STATUS as a category for colour (the text itself is always shown). */
export function statusTone(status) {
  if (["Running", "Completed", "Succeeded"].includes(status)) return "ok";
  if (status === "Terminating") return "ending";
  const failing = /Error|BackOff|ErrImage|OOMKilled|Failed|Invalid|Evicted|Unknown|NodeLost/;
  if (failing.test(status) || status === "DeadlineExceeded") return "bad";
  return "progress";
}
