"""The web view in headless Chromium against a real ``kubelite up`` and the real kubectl: log in
with the printed link, watch a pod with two init containers go Init:0/2 → Init:1/2 → Running in
the list without a reload, open its page by keyboard (timeline lanes, a container's log
followed live, init containers' logs, events as ``kubectl describe`` lists them, the manifest),
take a screenshot and decode it; then what must be refused: the API without a session, a used
link, a mutation through the session, and everything after logout.

The tests run in file order on one page (one browser session), as a person would use it.
"""

from __future__ import annotations

import importlib.util
import os
import re
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from kubelite.model.podprint import human_duration
from kubelite.registry import catalog
from kubelite.ui.sessionauth import READ_ONLY
from tests.e2e.cluster.conftest import Cluster
from tests.e2e.ui.png import decode

pytestmark = pytest.mark.e2e

POD = "ui-demo"
MANIFEST = f"""
apiVersion: v1
kind: Pod
metadata: {{name: {POD}}}
spec:
  terminationGracePeriodSeconds: 1
  initContainers:
  - name: init-one
    image: busybox:1.36
    command: [sh, -c, 'echo "init one done"; sleep 3']
  - name: init-two
    image: busybox:1.36
    command: [sh, -c, 'echo "init two done"; sleep 3']
  containers:
  - name: app
    image: busybox:1.36
    command: [sh, -c, 'trap "exit 0" TERM; echo "app started"; while true; do
      if [ -f /tmp/say ]; then cat /tmp/say; rm -f /tmp/say; fi; sleep 0.2 & wait; done']
"""
UI = {"X-Kubelite-UI": "1"}
VIEWPORT = {"width": 1280, "height": 900}
STATUSES = {"Pending", "Init:0/2", "Init:1/2", "PodInitializing", "Running"}

# Records, in the page, every STATUS the pod's row shows, and marks the document so that a
# reload (which would lose the mark) is noticed.
RECORD_STATUSES = """(name) => {
  window.__seen = [];
  window.__mark = "loaded once";
  const rows = document.getElementById("pod-rows");
  const record = () => {
    const row = rows.querySelector(`tr[data-name="${name}"]`);
    const text = row ? row.querySelector(".col-status").textContent : "";
    if (text && window.__seen[window.__seen.length - 1] !== text) window.__seen.push(text);
  };
  new MutationObserver(record).observe(rows, {subtree: true, childList: true, characterData: true});
  record();
}"""


def base_of(link: str) -> str:
    parts = urlsplit(link)
    return f"{parts.scheme}://{parts.netloc}"


def timeline_served() -> bool:
    """The timeline helper's record kind and renderer are in this kubelite."""
    found = catalog.find("kubelite.dev", "v1alpha1", "podlifecycles") is not None
    return found and importlib.util.find_spec("kubelite.timeline") is not None


@pytest.fixture(scope="module")
def page(browser: Any, login_link: str) -> Iterator[Any]:
    context = browser.new_context(ignore_https_errors=True, viewport=VIEWPORT)
    p = context.new_page()
    p.set_default_timeout(30_000)
    try:
        yield p
    finally:
        context.close()


def fetch_in_page(page: Any, method: str, path: str) -> dict[str, Any]:
    """What the session gets for a request the page's own script makes."""
    script = """async ([method, path, headers]) => {
      const resp = await fetch(path, {method, headers, body: method === "GET" ? undefined : "{}"});
      let message = "";
      try { message = (await resp.json()).message || ""; } catch {}
      return {status: resp.status, message};
    }"""
    headers = {**UI, "Content-Type": "application/json"}
    return dict(page.evaluate(script, [method, path, headers]))


def test_the_login_link_opens_the_pod_list(page: Any, login_link: str) -> None:
    page.goto(login_link)
    page.wait_for_url("**/ui/")
    assert "#" not in page.url
    page.wait_for_selector("#pods thead")
    cookies = page.context.cookies()
    assert [(c["name"], c["httpOnly"], c["secure"], c["sameSite"]) for c in cookies] == [
        ("__Host-kubelite-ui", True, True, "Strict")
    ]


def columns_box(page: Any) -> list[tuple[float, float]]:
    """Where the pod table's columns are: they must not move as rows change."""
    boxes = [page.locator(f"#pods th.col-{c}").bounding_box() for c in ("name", "status", "age")]
    return [(b["x"], b["width"]) for b in boxes]


def test_the_pod_status_changes_live_from_init_to_running(page: Any, cluster: Cluster) -> None:
    page.evaluate(RECORD_STATUSES, POD)
    before = columns_box(page)
    cluster.apply(MANIFEST)
    page.wait_for_function("() => window.__seen.includes('Running')", timeout=120_000)
    assert columns_box(page) == before  # no layout jump as rows come and change
    seen = page.evaluate("window.__seen")
    assert page.evaluate("window.__mark") == "loaded once"  # no reload
    assert set(seen) <= STATUSES, seen
    order = [seen.index(s) for s in ("Init:0/2", "Init:1/2", "Running")]
    assert order == sorted(order), seen
    printed = cluster.kubectl("get", "pod", POD, "--no-headers").stdout.split()
    row = page.locator(f'tr[data-name="{POD}"] td')
    assert row.all_inner_texts()[1:5] == printed[:4]  # NAME READY STATUS RESTARTS


def test_the_list_filters_by_namespace(page: Any) -> None:
    page.select_option("#namespace", "kube-system")
    page.wait_for_selector("#no-pods:has-text('No resources found in kube-system namespace.')")
    assert page.locator(f'tr[data-name="{POD}"]').count() == 0
    assert page.url.endswith("/ui/?namespace=kube-system")
    page.select_option("#namespace", "default")
    page.wait_for_selector(f'tr[data-name="{POD}"]')
    assert not page.is_visible("th.col-namespace")  # one namespace: no NAMESPACE column


def test_the_pod_page_opens_from_the_keyboard(page: Any) -> None:
    page.focus(f'tr[data-name="{POD}"] a')
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/ui/pods/default/{POD}")
    page.wait_for_function("() => document.getElementById('pod-status').textContent === 'Running'")


def test_the_pod_page_shows_the_timeline(page: Any) -> None:
    if not timeline_served():
        page.wait_for_selector("#timeline-caption:has-text('no lifecycle record yet')")
        return
    lanes = ("lane-init-one", "lane-init-two", "lane-app")
    selector = "#timeline-figure" + "".join(f'[data-lanes~="{lane}"]' for lane in lanes)
    page.wait_for_selector(selector, timeout=60_000)
    assert page.evaluate("document.getElementById('timeline-image').naturalWidth") > 0


def test_the_app_log_follows_lines_printed_after_the_page_opened(
    page: Any, cluster: Cluster
) -> None:
    assert page.input_value("#container") == "app"
    page.wait_for_selector("#log:has-text('app started')")
    marker = f"said-after-opening-{secrets.token_hex(4)}"
    cluster.exec(POD, "sh", "-c", f"echo {marker} > /tmp/say")
    page.wait_for_selector(f"#log:has-text('{marker}')")


@pytest.mark.parametrize(
    ("container", "line"), [("init-one", "init one done"), ("init-two", "init two done")]
)
def test_init_containers_logs_are_shown_too(page: Any, container: str, line: str) -> None:
    page.select_option("#container", container)
    page.wait_for_selector(f"#log:has-text('{line}')")
    assert "app started" not in page.inner_text("#log")


def describe_events(cluster: Cluster) -> list[tuple[str, ...]]:
    """Type, Reason, From and Message of each event ``kubectl describe pod`` prints."""
    text = cluster.kubectl("describe", "pod", POD).stdout
    lines = text.split("Events:", 1)[1].splitlines()[3:]
    rows = [re.split(r"\s{2,}", line.strip(), maxsplit=4) for line in lines if line.strip()]
    return [(r[0], r[1], r[3], r[4]) for r in rows]


def test_the_events_are_those_kubectl_describe_lists(page: Any, cluster: Cluster) -> None:
    page.wait_for_selector("#event-rows td:has-text('Started')")
    deadline = time.monotonic() + 20
    while True:
        cells = page.locator("#event-rows tr").evaluate_all(
            "rows => rows.map(r => [...r.cells].map(c => c.textContent))"
        )
        shown = [(c[0], c[1], c[3], c[4]) for c in cells]
        expected = describe_events(cluster)
        if shown == expected or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert shown == expected
    assert {"Scheduled", "Pulled", "Created", "Started"} <= {row[1] for row in shown}


def test_the_manifest_is_yaml_without_managed_fields(page: Any) -> None:
    page.wait_for_selector(f"#manifest-text:has-text('name: {POD}')")
    text = page.inner_text("#manifest-text")
    assert text.startswith("apiVersion: v1\nkind: Pod\n")
    assert "managedFields" not in text
    assert "- name: init-one" in text or "name: init-one" in text


def test_a_screenshot_of_the_pod_page_shows_it(page: Any, tmp_path: Path) -> None:
    """Kept in $KUBELITE_UI_SCREENSHOTS when that is set, to look at."""
    keep = os.environ.get("KUBELITE_UI_SCREENSHOTS")
    shot = Path(keep) / "pod-page.png" if keep else tmp_path / "pod-page.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shot), full_page=True)
    picture = decode(shot.read_bytes())
    assert picture.width == VIEWPORT["width"]
    assert picture.height >= VIEWPORT["height"]
    assert len(picture.colours()) > 20  # text, links, status colours: not a blank page


def test_age_and_event_times_are_written_as_kubectl_writes_them(page: Any) -> None:
    seconds = [-5, -1, 0, 1, 59, 119, 120, 121, 599, 600, 601, 3599, 3600, 10799, 10800,
               28799, 28800, 86399, 172799, 172800, 691199, 691200, 63071999, 63072000,
               63158400, 252288000, 252374400]  # fmt: skip
    script = """async (xs) => {
      const format = await import("/ui/static/format.js");
      return xs.map(format.humanDuration);
    }"""
    assert page.evaluate(script, seconds) == [human_duration(s) for s in seconds]
    events = """async () => {
      const f = await import("/ui/static/format.js");
      const now = Date.parse("2024-05-01T12:10:00Z") / 1000;
      return f.eventRows([
        {type: "Warning", reason: "BackOff", count: 3, message: " back-off \\n",
         firstTimestamp: "2024-05-01T12:00:00Z", lastTimestamp: "2024-05-01T12:09:30Z",
         source: {component: "kubelet"}},
        {type: "Normal", reason: "Scheduled", eventTime: "2024-05-01T11:59:00.000000Z",
         reportingController: "default-scheduler", message: "assigned"},
      ], now);
    }"""
    assert page.evaluate(events) == [
        ["Normal", "Scheduled", "11m", "default-scheduler", "assigned"],
        ["Warning", "BackOff", "30s (x3 over 10m)", "kubelet", "back-off"],
    ]


def test_a_mutation_through_the_session_is_refused(page: Any, cluster: Cluster) -> None:
    path = f"/api/v1/namespaces/default/pods/{POD}"
    for method in ("DELETE", "PATCH", "PUT"):
        assert fetch_in_page(page, method, path) == {"status": 403, "message": READ_ONLY}
    assert fetch_in_page(page, "POST", "/api/v1/namespaces/default/pods")["status"] == 403
    assert fetch_in_page(page, "POST", "/ui/api/links")["status"] == 403
    assert cluster.get("pod", POD)["metadata"].get("deletionTimestamp") is None


def test_without_a_session_the_web_views_api_answers_401(browser: Any, login_link: str) -> None:
    context = browser.new_context(ignore_https_errors=True)
    try:
        base = base_of(login_link)
        for path in (f"/ui/api/timeline/default/{POD}.svg", f"/ui/api/manifest/default/{POD}.yaml",
                     "/api/v1/pods"):  # fmt: skip
            assert context.request.get(base + path, headers=UI).status == 401, path
    finally:
        context.close()


def test_a_used_login_link_cannot_be_used_again(browser: Any, login_link: str) -> None:
    context = browser.new_context(ignore_https_errors=True)
    try:
        p = context.new_page()
        p.goto(login_link)
        p.wait_for_selector("#login-state:has-text('Cannot log in')")
        assert "used already or has expired" in p.inner_text("#login-state")
        assert context.cookies() == []
        assert "#" not in p.url
    finally:
        context.close()


def test_a_new_link_from_the_admin_opens_a_new_session(
    browser: Any, cluster: Cluster, login_link: str
) -> None:
    out = cluster.kubectl("create", "--raw", "/ui/api/links", "-f", "-", input="{}").stdout
    path = re.search(r'"path":\s*"([^"]+)"', out)
    assert path is not None, out
    context = browser.new_context(ignore_https_errors=True)
    try:
        p = context.new_page()
        p.goto(base_of(login_link) + path.group(1))
        p.wait_for_url("**/ui/")
        p.wait_for_selector(f'tr[data-name="{POD}"]')
    finally:
        context.close()


def test_the_browser_reaches_nothing_but_kubelite(browser: Any, local_registry: str) -> None:
    """Its network namespace has one way out (``browserns``): the pages above needed no other."""
    from playwright.sync_api import Error

    context = browser.new_context()
    try:
        with pytest.raises(Error, match="ERR_CONNECTION_REFUSED"):
            context.new_page().goto(f"http://{local_registry}/v2/", timeout=10_000)
    finally:
        context.close()


def test_logging_out_ends_the_session(page: Any) -> None:
    page.click("#logout")
    page.wait_for_selector("#login-state:has-text('You are logged out.')")
    assert fetch_in_page(page, "GET", "/api/v1/pods")["status"] == 401
