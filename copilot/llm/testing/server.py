"""WireServer: a scripted model server under a real uvicorn on 127.0.0.1, in a thread; stop/start/restart on
the same port emulate a model server that goes down and comes back."""

from __future__ import annotations

import threading
import time
from types import TracebackType

import uvicorn

from copilot.llm.testing.openai_server import ScriptedApp
from copilot.llm.testing.script import WireLog
from copilot.serverprocess import free_port


class WireServer:
    def __init__(self, app: ScriptedApp, port: int | None = None) -> None:
        self.app = app
        self.port = port or free_port()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Base URL; OpenAI clients use `url + "/v1"`, Anthropic clients `url`."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> WireLog:
        return self.app.log

    def start(self) -> WireServer:
        config = uvicorn.Config(
            self.app.asgi, host="127.0.0.1", port=self.port, log_level="critical", lifespan="on",
            ws="none", timeout_graceful_shutdown=1, timeout_keep_alive=1,
        )  # fmt: skip
        self._server = server = uvicorn.Server(config)
        self._thread = threading.Thread(target=server.run, daemon=True, name=f"wire server {self.port}")
        self._thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"the scripted model server did not start on port {self.port}")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Shut down (open connections are dropped after a 1 s grace); the port is free afterwards."""
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self._server = self._thread = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def __enter__(self) -> WireServer:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
