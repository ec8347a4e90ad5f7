"""`make lab`: JupyterLab with the repository's settings (jupyter_lab_config.py) serves the notebooks,
and a notebook runs in the `smoke` profile through that server's kernel, as it does when a user
opens it: the kernel is started over the REST API and the cells go over the kernel websocket."""

from __future__ import annotations

import ast
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
requests = pytest.importorskip("requests")
websocket = pytest.importorskip("websocket")  # websocket-client, a dependency of jupyter_server
pytest.importorskip("jupyterlab")
from jupyter_client.jsonutil import json_default  # noqa: E402
from jupyter_client.session import Session  # noqa: E402

from ferlib.run_notebooks import notebooks  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO / "notebooks" / "00_data_overview.ipynb"  # the smallest notebook: no training


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _parameter_names(nb) -> tuple[int, list[str]]:
    """Position of the cell tagged ``parameters`` and the names it assigns."""
    pos = next(i for i, c in enumerate(nb.cells) if "parameters" in c.get("metadata", {}).get("tags", []))
    tree = ast.parse(nb.cells[pos].source)
    return pos, [t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets if isinstance(t, ast.Name)]


class KernelSocket:
    """The websocket JupyterLab talks to a kernel through (``/api/kernels/<id>/channels``)."""

    def __init__(self, url: str, token: str):
        self.ws = websocket.create_connection(url, header=[f"Authorization: token {token}"], timeout=600)
        self.session = Session(username="test")

    def execute(self, code: str, timeout: float = 600) -> tuple[dict, list[dict]]:
        """Run ``code``; returns the execute_reply content and the iopub outputs of this request."""
        msg = self.session.msg("execute_request", {"code": code, "silent": False, "store_history": True,
                                                   "user_expressions": {}, "allow_stdin": False, "stop_on_error": True})
        msg["channel"] = "shell"
        self.ws.send(json.dumps(msg, default=json_default))
        msg_id = msg["header"]["msg_id"]
        reply, outputs, idle = None, [], False
        end = time.monotonic() + timeout
        while reply is None or not idle:
            if time.monotonic() > end:
                raise TimeoutError(f"no reply within {timeout} s to:\n{code[:300]}")
            m = json.loads(self.ws.recv())
            if m.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = m["msg_type"] if "msg_type" in m else m["header"]["msg_type"]
            if m["channel"] == "shell" and kind == "execute_reply":
                reply = m["content"]
            elif m["channel"] == "iopub" and kind == "status":
                idle = m["content"]["execution_state"] == "idle"
            elif m["channel"] == "iopub" and kind in ("stream", "display_data", "execute_result", "error"):
                outputs.append({"type": kind, **m["content"]})
        return reply, outputs

    def close(self) -> None:
        self.ws.close()


@pytest.fixture
def lab_server(tmp_path):
    """``python -m jupyter lab --config=jupyter_lab_config.py`` as `make lab` runs it, on a free port of
    127.0.0.1 with a token and no browser; Jupyter's own folders in ``tmp_path``. Shut down over the
    REST API at the end (terminated if it does not stop)."""
    port, token = _free_port(), secrets.token_hex(16)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
           "JUPYTER_CONFIG_DIR": str(tmp_path / "jupyter-config"), "JUPYTER_DATA_DIR": str(tmp_path / "jupyter-data"),
           "JUPYTER_RUNTIME_DIR": str(tmp_path / "jupyter-runtime"), "IPYTHONDIR": str(tmp_path / "ipython")}
    env.pop("MPLBACKEND", None)  # the kernel draws inline, as in JupyterLab
    cmd = [sys.executable, "-m", "jupyter", "lab", f"--config={REPO / 'jupyter_lab_config.py'}", "--no-browser",
           "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
           f"--IdentityProvider.token={token}", "--ServerApp.allow_root=True",
           "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    log = open(tmp_path / "server.log", "w")
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    api = requests.Session()
    api.headers["Authorization"] = f"token {token}"
    try:
        end = time.monotonic() + 180
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {proc.returncode}:\n{(tmp_path / 'server.log').read_text()[-3000:]}")
            try:
                if api.get(f"{base}/api/status", timeout=5).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > end:
                raise TimeoutError(f"jupyter lab did not answer in 180 s:\n{(tmp_path / 'server.log').read_text()[-3000:]}")
            time.sleep(0.5)
        yield {"base": base, "ws": f"ws://127.0.0.1:{port}", "token": token, "api": api, "proc": proc}
        api.post(f"{base}/api/shutdown", timeout=30)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()


@pytest.mark.slow
def test_lab_serves_the_notebooks_and_runs_one_through_its_kernel(lab_server, tmp_path):
    base, api = lab_server["base"], lab_server["api"]
    # the server is JupyterLab, not a bare Jupyter server, and it needs the token
    page = api.get(f"{base}/lab", timeout=30)
    assert page.status_code == 200 and "JupyterLab" in page.text
    assert requests.get(f"{base}/api/contents/notebooks", timeout=30).status_code == 403
    # it serves the repository's notebooks folder
    listing = api.get(f"{base}/api/contents/notebooks", timeout=30).json()
    assert listing["type"] == "directory"
    served = {e["name"] for e in listing["content"] if e["type"] == "notebook"}
    assert served == {p.name for p in notebooks()}

    # open the notebook as JupyterLab does: a session (and its kernel) for its path
    path = f"notebooks/{NOTEBOOK.name}"
    r = api.post(f"{base}/api/sessions", json={"path": path, "name": NOTEBOOK.name, "type": "notebook",
                                                "kernel": {"name": "python3"}}, timeout=120)
    assert r.status_code == 201, r.text
    kernel_id = r.json()["kernel"]["id"]
    assert kernel_id in {k["id"] for k in api.get(f"{base}/api/kernels", timeout=30).json()}
    ws = KernelSocket(f"{lab_server['ws']}/api/kernels/{kernel_id}/channels?session_id={uuid.uuid4().hex}",
                      lab_server["token"])
    try:
        # the project's kernel (this environment's Python and this checkout's ferlib) in the repository root
        reply, out = ws.execute("import os, sys, ferlib; print(os.getcwd()); print(sys.executable); print(ferlib.__file__)")
        assert reply["status"] == "ok", reply
        cwd, exe, pkg = "".join(o["text"] for o in out if o["type"] == "stream").split()
        assert Path(cwd) == REPO
        assert Path(exe).resolve() == Path(sys.executable).resolve()
        assert Path(pkg).resolve().is_relative_to(REPO)

        # the notebook's cells, with the smoke parameters after its parameters cell (as papermill injects them)
        nb = nbformat.read(NOTEBOOK, as_version=4)
        pos, declared = _parameter_names(nb)
        figures, data = tmp_path / "figures", tmp_path / "data"
        given = {"profile": "smoke", "data_dir": str(data), "figures_dir": str(figures)}
        assert set(given) <= set(declared), f"{NOTEBOOK.name} declares {declared}"
        cells = [c.source for c in nb.cells if c.cell_type == "code"]
        code_pos = sum(1 for c in nb.cells[:pos + 1] if c.cell_type == "code")
        cells.insert(code_pos, "\n".join(f"{k} = {v!r}" for k, v in given.items()))
        images = 0
        for i, source in enumerate(cells):
            reply, out = ws.execute(source)
            errors = [o for o in out if o["type"] == "error"]
            assert reply["status"] == "ok" and not errors, \
                f"cell {i} of {NOTEBOOK.name} failed:\n" + "\n".join(errors[0]["traceback"] if errors else [str(reply)])
            images += sum("image/png" in o.get("data", {}) for o in out)
    finally:
        ws.close()
    assert images >= 1  # figures show inline, as in JupyterLab
    pngs = sorted(figures.glob("00_*.png"))
    assert pngs and all(p.stat().st_size > 5000 for p in pngs)
    assert any(data.iterdir())  # the smoke data set was generated where the parameters said
    r = api.delete(f"{base}/api/sessions/{api.get(f'{base}/api/sessions', timeout=30).json()[0]['id']}", timeout=60)
    assert r.status_code == 204
    assert api.get(f"{base}/api/kernels", timeout=30).json() == []
