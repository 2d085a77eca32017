"""Fixtures: a client over a scripted transport for the unit tests, and the live server's coordinates for the rest."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Union

import httpx
import pytest

from edgedial import Edgedial

Reply = Union[httpx.Response, Exception]


@dataclass
class Script:
    """Answers requests in order from `replies` and keeps every request it saw."""

    replies: List[Union[Reply, Callable[[httpx.Request], Reply]]]
    requests: List[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        if not self.replies:
            raise AssertionError(f"unexpected request {request.method} {request.url}")
        reply = self.replies.pop(0)
        if callable(reply) and not isinstance(reply, httpx.Response):
            reply = reply(request)
        if isinstance(reply, Exception):
            raise reply
        return reply


@dataclass
class Scripted:
    client: Edgedial
    script: Script
    sleeps: List[float]


@pytest.fixture
def scripted() -> Callable[..., Scripted]:
    def make(*replies: Union[Reply, Callable[[httpx.Request], Reply]], max_retries: int = 2) -> Scripted:
        script = Script(list(replies))
        client = Edgedial(api_key="sk_live_unit_secret", base_url="https://api.example.test", max_retries=max_retries, http_client=httpx.Client(transport=httpx.MockTransport(script)))
        sleeps: List[float] = []
        client._sleep = sleeps.append
        return Scripted(client, script, sleeps)

    return make


def json_reply(status: int, body: object, headers: Dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, content=json.dumps(body).encode(), headers={"Content-Type": "application/json", **(headers or {})})


@dataclass
class Live:
    base_url: str
    api_key: str
    agent_id: str
    phone_number_id: str


@pytest.fixture(scope="session")
def live() -> Live:
    names = ["EDGEDIAL_BASE_URL", "EDGEDIAL_API_KEY", "EDGEDIAL_TEST_AGENT_ID", "EDGEDIAL_TEST_NUMBER_ID"]
    missing = [name for name in names if not os.environ.get(name)]
    if missing:
        pytest.fail(f"The live tests need a server: run them through `npm test` (which starts one), or set {', '.join(missing)}.")
    return Live(*(os.environ[name] for name in names))
