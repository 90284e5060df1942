"""Many client processes sending provider requests to a real server, like the providers do:
each request is resent until it gets a final answer (a "try again" code, a dropped connection
or a gateway error is retried), VP's with fresh signature headers on every attempt.

A plan is a list of rounds; each round is a list of jobs spread over the processes, which all
start the round together (a barrier), so that the requests of one race really arrive together.
A job is a prepared request, or a staff action run in the child against the database.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import requests

from providers.vp import signature
from tests.conftest import TEST_PROVIDER_SETTINGS
from tests.reliability.flows import Answer, Call, documented, read_answer

VP_AGENT = str(TEST_PROVIDER_SETTINGS["VP_AGENT_ID"])


@dataclass(frozen=True)
class Wire:
    """A request as bytes, ready to send from any process (VP is re-signed per attempt)."""

    provider: str
    path: str
    body: bytes
    content_type: str
    headers: dict[str, str]
    vp_cipher_text: str = ""


def prepare(call: Call) -> Wire:
    signed = call.signed()
    cipher_text = ""
    if call.provider == "vp":
        import json

        cipher_text = json.loads(signed.body)["cipherText"]
    return Wire(
        call.provider,
        signed.path,
        signed.body,
        signed.content_type,
        dict(signed.headers),
        cipher_text,
    )


@dataclass(frozen=True)
class Job:
    race: int
    role: str  # what the test meant: "bet", "cancel", "settle", "staff_cancel", ...
    wire: Wire | None = None
    bet_id: int = 0  # for staff jobs


@dataclass
class Result:
    race: int
    role: str
    provider: str
    code: str = ""  # the final answer's code ("ok"/"refused" for staff jobs)
    body: Any = None
    attempts: int = 0
    transient: list[str] = field(default_factory=list)  # retried answers and transport errors
    undocumented: list[str] = field(default_factory=list)
    error: str = ""  # the job itself failed (gave up, or a bug in the test)
    finished: float = 0.0  # time.time() of the final answer


def is_transient(provider: str, answer: Answer) -> bool:
    """A "try again" answer: the provider resends the request (its file's retry codes)."""
    if not isinstance(answer.body, dict) or not answer.content_type.startswith("application/json"):
        return True  # a gateway page from a dying worker, not our answer
    if provider == "jdb":
        text = str(answer.body.get("err_text", ""))
        return answer.code == "9017" or (
            answer.code == "9999" and text.startswith(("work in progress", "internal error"))
        )
    if provider == "vp":
        return answer.code == "9999"
    if provider == "naga":
        return answer.http_status == 503
    return answer.code == "TEMPORARY_ERROR"


def send_until_final(
    session: requests.Session,
    base_url: str,
    wire: Wire,
    result: Result,
    *,
    deadline: float,
    timeout: float = 10,
) -> None:
    """Resend until the answer is final, or the deadline passes (then ``result.error``)."""
    pause = 0.05
    while True:
        result.attempts += 1
        headers = {"Content-Type": wire.content_type, **wire.headers}
        if wire.vp_cipher_text:
            headers.update(signature.new_headers(VP_AGENT, wire.vp_cipher_text))
        try:
            response = session.post(
                base_url + wire.path, data=wire.body, headers=headers, timeout=timeout
            )
            answer = read_answer(
                wire.provider,
                response.status_code,
                response.content,
                response.headers.get("Content-Type", ""),
            )
        except (requests.RequestException, ValueError) as exc:
            result.transient.append(type(exc).__name__)
        else:
            if answer.http_status < 500 or wire.provider == "naga":
                if isinstance(answer.body, dict) and not documented(wire.provider, answer):
                    result.undocumented.append(f"{answer.http_status} {answer.body}")
            if not is_transient(wire.provider, answer):
                result.code, result.body = answer.code, answer.body
                result.finished = time.time()
                return
            result.transient.append(answer.code or f"HTTP {answer.http_status}")
        if time.monotonic() > deadline:
            result.error = (
                f"no final answer after {result.attempts} attempts: {result.transient[-3:]}"
            )
            return
        time.sleep(pause)
        pause = min(pause * 2, 1.0)


StaffAction = Callable[[Job], str]


def _child(
    index: int,
    rounds: Sequence[Sequence[Job]],
    processes: int,
    base_url: str,
    barrier: Any,
    queue: Any,
    staff_action: StaffAction | None,
    deadline: float,
) -> None:
    results: list[Result] = []
    try:
        session = requests.Session()
        for jobs in rounds:
            barrier.wait(timeout=max(5.0, deadline - time.monotonic()))
            for position, job in enumerate(jobs):
                if position % processes != index or job.role == "idle":
                    continue
                if job.wire is None:
                    assert staff_action is not None
                    result = Result(job.race, job.role, "staff", attempts=1)
                    try:
                        result.code = staff_action(job)
                    except Exception as exc:  # reported, never hidden
                        result.error = f"{type(exc).__name__}: {exc}"
                else:
                    result = Result(job.race, job.role, job.wire.provider)
                    send_until_final(session, base_url, job.wire, result, deadline=deadline)
                results.append(result)
    except Exception:  # the parent fails the test with this
        results.append(Result(-1, "child", "", error=traceback.format_exc()))
    finally:
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        queue.put(results)


def run_storm(
    rounds: Sequence[Sequence[Job]],
    base_url: str,
    *,
    processes: int,
    staff_action: StaffAction | None = None,
    budget_seconds: float = 240,
    during: Callable[[], None] | None = None,
) -> list[Result]:
    """Run the rounds on ``processes`` forked client processes; all results, any order.

    ``during`` runs in the parent while the clients work (e.g. killing server processes).
    Database connections are closed before forking, so that no child shares the parent's.
    """
    from django.db import connections

    connections.close_all()
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(processes)
    queue = context.Queue()
    deadline = time.monotonic() + budget_seconds
    children = [
        context.Process(
            target=_child,
            args=(i, rounds, processes, base_url, barrier, queue, staff_action, deadline),
            daemon=True,
        )
        for i in range(processes)
    ]
    for child in children:
        child.start()
    if during is not None:
        during()
    collected: list[Result] = []
    for _ in children:
        collected.extend(queue.get(timeout=budget_seconds + 60))
    for child in children:
        child.join(timeout=30)
        if child.is_alive():
            child.kill()
    return collected
