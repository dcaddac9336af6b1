"""``zoning edit PROPOSAL_DIR``: the planner's map as a local editor, served on 127.0.0.1 only.

The page (``pipelines/templates/editor.html`` + ``editor.js`` + ``editor.css``, Leaflet from
``maps/assets``) asks this small standard-library HTTP server for JSON; every figure it shows comes
from :class:`pipelines.edit_session.EditSession`, i.e. from the same Python code as
``zoning project`` and ``zoning check-plan``. Data strings reach the page only as JSON (read by
the script, put into the DOM as text) or as escaped template variables.

Requests are answered only for the loopback host the server was started on (a page of another
site cannot reach it through a rebound DNS name), and every change is a JSON POST (a plain form of
another site cannot send one).
"""
from __future__ import annotations

import json
import logging
import mimetypes
import threading
import webbrowser
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from maps.page import asset_path, features, prepare, safe_json
from maps.palette import school_colors
from geodata.proposal import read_proposal
from pipelines.edit_session import EditError, EditSession, _message
from pipelines.render import render_page
from zoning.errors import DataError
from zoning.scenario import ScenarioError

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
STATIC = {"/editor.js": "editor.js", "/editor.css": "editor.css"}
MAX_BODY = 64 * 1024


def static_text(name: str) -> str:
    """A file of ``pipelines/templates`` (the editor's script and style)."""
    return (resources.files("pipelines") / "templates" / name).read_text(encoding="utf-8")


def page_data(session: EditSession) -> dict:
    """What does not change while editing: unit polygons, schools, barriers, levels, colours."""
    files = read_proposal(session.source)
    p = session.problem
    colors = school_colors(p.school_ids)
    schools = prepare(files.schools, tolerance=0)
    kind = dict(zip(p.school_ids, p.school_kind))
    school_rows = []
    for r in schools.itertuples():
        sid = str(r.school_id)
        if sid not in session.sidx:
            continue
        s = session.sidx[sid]
        school_rows.append({"school_id": sid, "name": str(r.name), "level": kind[sid],
                            "lat": round(r.geometry.y, 6), "lon": round(r.geometry.x, 6), "color": colors[sid],
                            "open_year": int(p.open_year[s]) if p.open_year[s] > p.base_year else None})
    barriers = None
    if files.barriers is not None and len(files.barriers):
        barriers = features(prepare(files.barriers), ["name", "kind"])
    return {
        "title": f"方案编辑：{session.run.get('name') or session.source.name}",
        "source_name": str(session.run.get("name") or session.source.name),
        "is_sample": bool(getattr(session.loaded.dataset, "is_sample", False)),
        "levels": [{"level": lv, "name": {"primary": "小学", "junior": "初中"}[lv],
                    "change_year": session.final_year[lv]} for lv in session.levels],
        "years": [p.base_year] + list(session.scenario.years),
        "units": features(prepare(files.units), ["unit_id", "name", "township"]),
        "schools": school_rows,
        "colors": colors,
        "barriers": barriers,
    }


class EditorServer(ThreadingHTTPServer):
    """The editor's HTTP server: one session, loopback only."""

    daemon_threads = True

    def __init__(self, session: EditSession, port: int = 0):
        super().__init__((HOST, port), EditorHandler)
        self.session = session
        data = page_data(session)
        self.title = data["title"]
        self.data_json = safe_json(data)
        self.allowed_hosts = {f"{HOST}:{self.port}", f"localhost:{self.port}"}

    def open_resolved(self) -> dict:
        """Reopen the editor on the finished re-solve's proposal (the page reloads on it)."""
        job = self.session.job
        if job is None or job.running or not job.path:
            raise EditError("还没有完成的重新优化结果可以打开")
        try:
            session = EditSession(job.path)
        except (DataError, ScenarioError) as exc:
            raise EditError(f"无法打开重新优化的方案：{_message(exc)}") from None
        data = page_data(session)
        self.session, self.title, self.data_json = session, data["title"], safe_json(data)
        log.info("编辑器改为编辑重新优化的方案：%s", job.path)
        return {"path": job.path}

    @property
    def port(self) -> int:
        return self.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/"


class EditorHandler(BaseHTTPRequestHandler):
    server: EditorServer
    server_version = "zoning-edit"

    def log_message(self, fmt, *args):  # requests go to the log, not to the terminal
        log.debug("%s %s", self.address_string(), fmt % args)

    # ------------------------------------------------------------------ responses
    def _send(self, status: int, body: bytes, ctype: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the page went away (closed, reloaded)
            log.debug("请求方已断开：%s", self.path)

    def _json(self, obj, status: int = 200) -> None:
        self._send(status, safe_json(obj).encode("utf-8"), "application/json; charset=utf-8")

    def _error(self, message: str, status: int = 400) -> None:
        self._json({"error": message}, status)

    def _host_ok(self) -> bool:
        if self.headers.get("Host") not in self.server.allowed_hosts:
            self._send(HTTPStatus.FORBIDDEN, "只接受本机访问".encode("utf-8"), "text/plain; charset=utf-8")
            return False
        return True

    # ------------------------------------------------------------------ GET
    def do_GET(self):  # noqa: N802 (http.server's name)
        if not self._host_ok():
            return
        url = urlparse(self.path)
        path, session = url.path, self.server.session
        if path == "/":
            html = render_page("editor.html", title=self.server.title,
                               is_sample=session.loaded.dataset.is_sample)
            return self._send(200, html.encode("utf-8"), "text/html; charset=utf-8")
        if path == "/favicon.ico":
            return self._send(204, b"", "image/x-icon")
        if path in STATIC:
            name = STATIC[path]
            ctype = "text/javascript" if name.endswith(".js") else "text/css"
            return self._send(200, static_text(name).encode("utf-8"), ctype + "; charset=utf-8")
        if path.startswith("/assets/leaflet/") and ".." not in path:
            file = asset_path(path[len("/assets/"):])
            if file.is_file():
                ctype = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
                return self._send(200, file.read_bytes(), ctype)
        if path == "/api/data":
            return self._send(200, self.server.data_json.encode("utf-8"), "application/json; charset=utf-8")
        if path == "/api/state":
            with session.lock:
                return self._json(session.state())
        if path == "/api/candidates":
            unit = parse_qs(url.query).get("unit", [""])[0]
            try:
                with session.lock:
                    return self._json(session.candidates(unit))
            except EditError as exc:
                return self._error(str(exc))
        if path == "/api/job":
            return self._json(None if session.job is None else session.job.state())
        if path == "/resolved/map.html":  # the finished re-solve's planner map (read only)
            job = session.job
            file = Path(job.path) / "map.html" if job is not None and job.path else None
            if file is not None and file.is_file():
                return self._send(200, file.read_bytes(), "text/html; charset=utf-8")
            return self._send(404, "重新优化的方案还没有规划图".encode("utf-8"), "text/plain; charset=utf-8")
        self._send(404, "没有这个页面".encode("utf-8"), "text/plain; charset=utf-8")

    # ------------------------------------------------------------------ POST
    def _body(self) -> dict | None:
        if not (self.headers.get("Content-Type") or "").startswith("application/json"):
            self._error("请求必须是 JSON", HTTPStatus.UNSUPPORTED_MEDIA_TYPE)
            return None
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_BODY:
            self._error("请求过大", HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
            return None
        try:
            body = json.loads(self.rfile.read(n) or b"{}")
        except (ValueError, UnicodeDecodeError):
            self._error("请求不是有效的 JSON")
            return None
        if not isinstance(body, dict):
            self._error("请求不是 JSON 对象")
            return None
        return body

    def do_POST(self):  # noqa: N802
        if not self._host_ok():
            return
        body = self._body()
        if body is None:
            return
        session, path = self.server.session, urlparse(self.path).path
        try:
            if path == "/api/assign":
                return self._json(session.assign(str(body.get("unit_id", "")), str(body.get("level", "")),
                                                 str(body.get("school_id", ""))))
            if path == "/api/undo":
                return self._json(session.undo())
            if path == "/api/redo":
                return self._json(session.redo())
            if path == "/api/save":
                out = session.save(str(body.get("name", "")))
                return self._json({"path": str(out)})
            if path == "/api/resolve":
                job = session.resolve(body.get("name") or None)
                return self._json(job.state())
            if path == "/api/open-resolved":
                return self._json(self.server.open_resolved())
        except EditError as exc:
            return self._error(str(exc))
        except Exception as exc:  # a bug: the page says so in one line, the log has the traceback
            log.exception("编辑器内部错误")
            return self._error(f"程序内部错误（{type(exc).__name__}：{exc}）", 500)
        self._error("没有这个操作", 404)


def start_editor(proposal_dir, port: int = 0, data_dir=None) -> EditorServer:
    """Load the proposal and start serving it in a background thread (``port=0``: any free port)."""
    session = EditSession(proposal_dir, data_dir=data_dir)
    server = EditorServer(session, port)
    threading.Thread(target=server.serve_forever, daemon=True, name="zoning-edit").start()
    return server


def run_edit(proposal_dir, port: int = 8765, open_browser: bool = True, announce=print) -> None:
    """``zoning edit``: serve the editor until interrupted (Ctrl+C)."""
    proposal_dir = Path(proposal_dir)
    read_proposal(proposal_dir)  # every problem of the folder before the data are loaded
    announce(f"正在载入方案 {proposal_dir} 及其数据……")
    session = EditSession(proposal_dir)
    try:
        server = EditorServer(session, port)
    except OSError as exc:
        raise EditError(f"无法在 {HOST}:{port} 上启动编辑器（{exc.strerror or exc}）：端口可能已被占用，"
                        "用 --port 换一个端口") from None
    announce(f"编辑器已启动：{server.url}（只接受本机访问；按 Ctrl+C 结束）")
    announce("修改只在“另存为新方案”时写出，原方案文件夹不会被改动。")
    if open_browser:
        webbrowser.open(server.url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        announce("编辑器已关闭。")
    finally:
        server.server_close()
