"""The live web view ``kubelite up`` serves at ``/ui/`` on the API server's port.

Static pages (HTML, CSS and JavaScript modules shipped in ``static/``) that call the API as any
client would, authenticated by a browser session which a one-time login link opens
(``sessions``, ``sessionauth``, ``front``), and a few read-only endpoints under ``/ui/api/``
for what a browser cannot compute itself: the pod's timeline picture and its manifest as YAML
(``reads``, ``timelineview``, ``manifest``). ``webview.WebView`` puts them together; the API
server mounts it and ``kubelite up`` turns it on. See docs/webview.md.
"""
