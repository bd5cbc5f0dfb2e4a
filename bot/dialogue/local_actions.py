"""Kefu's custom actions run inside the Rasa server (the default; ``KEFU_ACTIONS_IN_PROCESS=0`` calls the action server).

Every custom action costs Rasa an HTTP round trip to the action server: a
new aiohttp session and TCP connection per call (Rasa's
``EndpointConfig.request``), the whole tracker as JSON to a second process,
Sanic there, and the reply back (bench/RESULTS.md: 17% of the Rasa server's
busy time, plus the action server's own CPU on the same two cores).

With the setting on, :class:`InProcessActionEndpoint` takes the place of the
``action_endpoint`` of every loaded model (``MessageProcessor.action_endpoint``,
which ``RemoteAction`` calls). Everything of Rasa's ``RemoteAction.run`` is
unchanged (the request body, the reply validation, the responses through the
NLG, the events, the errors, bot/dialogue/action_retry.py); only the transport
is replaced by rasa_sdk's own ``ActionExecutor`` (the one ``rasa run actions``
and actions/server.py serve) called in this process, with what the HTTP path
does around it:

- the body is encoded to JSON and decoded as Sanic decodes it (ujson), the
  reply encoded as Sanic's ``response.json`` and decoded as aiohttp's
  ``response.json()``: the action sees the same tracker dict and Rasa the
  same reply, value for value, as over HTTP. aiohttp encodes the body with
  ``json.dumps``; here Sanic's own encoder (ujson) writes it, about 2.5
  times faster on a tracker, and the text decodes to the same value
  (:func:`client_dumps`);
- the action server's answers on failure: 400 with ``{"error",
  "action_name"}`` for an ``ActionExecutionRejection``, 404 for an unknown
  action, 500 ``{"error": "internal error"}`` (actions/server.py's handler)
  for anything else, raised as Rasa's ``ClientResponseError`` so
  ``RemoteAction`` reacts exactly as to the HTTP answer;
- the call's ``timeout`` (Rasa passes its ``DEFAULT_REQUEST_TIMEOUT``).

With ``KEFU_ACTIONS_IN_PROCESS=0`` nothing of this is installed: the HTTP
action server with its token (actions/server.py) serves every call, as in a
deployment that runs its actions elsewhere. On (the default), the action
server process still runs and still answers HTTP callers with its token;
Rasa just does not call it. Why on by default (bench/RESULTS.md): the HTTP
path costs the action server 1.4 ms of CPU per turn and the Rasa server the
round trip, work that stays in one process however many Rasa workers run; in
process, a second worker takes its share and the stack scales with
workers. The actions' outbox, Redis and order look-ups are the same code
with the same environment (bot/runner/settings.py gives every service one
environment); their log lines go to Rasa's log.
"""
from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, Callable, Optional, Text

from rasa.core.processor import MessageProcessor
from rasa.utils.endpoints import ClientResponseError, EndpointConfig
from rasa_sdk import utils as sdk_utils
from rasa_sdk.executor import ActionExecutor
from rasa_sdk.interfaces import ActionExecutionRejection, ActionNotFoundException
from sanic.request import json_loads as sanic_json_loads
from sanic.response import BaseHTTPResponse

from core.switches import switch

logger = logging.getLogger(__name__)

SETTING_ENV = "KEFU_ACTIONS_IN_PROCESS"
#: the package rasa_sdk scans for actions (actions/server.py's ACTION_PACKAGE; bot/ does not import actions/)
ACTION_PACKAGE = "actions"

_original_init: Optional[Callable[..., None]] = None


def enabled() -> bool:
    """Whether custom actions run in process: unless ``KEFU_ACTIONS_IN_PROCESS`` is off (core/switches.py)."""
    return switch(SETTING_ENV)


def client_dumps(value: Any) -> str:
    """The request body: text that decodes to what aiohttp's ``json.dumps`` body decodes to.

    Sanic's encoder (ujson when installed, as for the replies) decodes back to
    the same value as ``json.dumps`` for all that JSON holds, NaN, infinities,
    integers past 64 bits, non-string keys, lone surrogates and every float
    included (tests/foundation/test_local_actions.py). A value it refuses
    goes to ``json.dumps``, whose error, if any, is the one aiohttp raises.
    (ujson also writes objects with a ``toDict`` method, which ``json.dumps``
    refuses; Rasa's action call holds only JSON types.)
    """
    try:
        return str(BaseHTTPResponse._dumps(value))
    except Exception:  # ujson's refusal: json.dumps decides, as in aiohttp
        return json.dumps(value)


def _server_dumps(value: Any) -> bytes:
    # what Sanic's response.json(...) sends (ujson when installed, as in the action server)
    return str(BaseHTTPResponse._dumps(value)).encode()


class InProcessActionEndpoint(EndpointConfig):
    """An ``EndpointConfig`` whose action calls run in this process.

    Same url, headers and settings as the configured endpoint (Rasa reads
    ``kwargs`` for selective domain, logs the url); a call that is not an
    action call (another method or a sub-path) still goes over HTTP.
    """

    def __init__(self, configured: EndpointConfig, executor: ActionExecutor) -> None:
        super().__init__(configured.url, configured.params, configured.headers, configured.basic_auth,
                         configured.token, configured.token_name, configured.cafile, **configured.kwargs)
        self.type = configured.type
        self.executor = executor

    async def request(self, method: Text = "post", subpath: Optional[Text] = None,
                      content_type: Optional[Text] = "application/json", compress: bool = False,
                      **kwargs: Any) -> Optional[Any]:
        if method.lower() != "post" or subpath or "json" not in kwargs:
            return await super().request(method, subpath, content_type, compress, **kwargs)
        sent = client_dumps(kwargs["json"])  # aiohttp's JSON payload, decoded the same
        # the action server's request.json (ujson), or json.loads of a deflated body (rasa_sdk.endpoint)
        action_call = json.loads(sent) if compress else sanic_json_loads(sent.encode())
        if action_call is None:
            raise ClientResponseError(400, "Bad Request", _server_dumps({"error": "Invalid body request"}))
        sdk_utils.check_version_compatibility(action_call.get("version"))
        reply = await asyncio.wait_for(self._serve(action_call), kwargs.get("timeout"))
        return json.loads(reply.decode())  # aiohttp's response.json()

    async def _serve(self, action_call: Any) -> bytes:
        """What the action server's /webhook answers (the body of a 200), or its error as Rasa gets it."""
        try:
            result = await self.executor.run(action_call)
        except ActionExecutionRejection as e:
            logger.debug(e)
            raise ClientResponseError(400, "Bad Request",
                                      _server_dumps({"error": e.message, "action_name": e.action_name})) from None
        except ActionNotFoundException as e:
            logger.error(e)
            raise ClientResponseError(404, "Not Found",
                                      _server_dumps({"error": e.message, "action_name": e.action_name})) from None
        except Exception as e:  # the action server's safe_error: 500, no request body in the answer
            logger.error("action %s failed in process", action_call.get("next_action"), exc_info=e)
            raise ClientResponseError(500, "Internal Server Error", _server_dumps({"error": "internal error"})) from None
        return _server_dumps(result)


def local_endpoint(configured: Optional[EndpointConfig], executor: ActionExecutor) -> Optional[EndpointConfig]:
    """``configured`` as an in-process endpoint (None stays None: Rasa's own error for a missing endpoint)."""
    if configured is None or isinstance(configured, InProcessActionEndpoint):
        return configured
    return InProcessActionEndpoint(configured, executor)


def executor_for(package: str = ACTION_PACKAGE) -> ActionExecutor:
    """rasa_sdk's executor with the actions of ``package``, as the action server builds it."""
    executor = ActionExecutor()
    executor.register_package(package)
    return executor


def install(package: str = ACTION_PACKAGE) -> bool:
    """Run custom actions in process if the setting asks for it (idempotent); True if installed.

    The actions are imported here, at start-up, so a broken action package
    stops the server instead of failing the first customer.
    """
    global _original_init
    if not enabled() or _original_init is not None:
        return _original_init is not None
    executor = executor_for(package)
    original = _original_init = MessageProcessor.__init__

    def init(self: MessageProcessor, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.action_endpoint = local_endpoint(self.action_endpoint, executor)
        # here, not in install(): Rasa's CLI sets up logging after install() ran
        logger.info("custom actions run in process (%s=0 calls the action server): %d actions of %s", SETTING_ENV, len(executor.actions), package)

    MessageProcessor.__init__ = init  # type: ignore[method-assign]
    return True
