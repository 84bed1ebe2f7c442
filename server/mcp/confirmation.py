"""Human confirmation for rollback and gated migrate: ask through elicitation, else refuse (or, opt-in, a token).

The assistant must not be able to confirm by itself. A client that declares elicitation shows the plan to the
user and returns their answer; only an accepted form with an explicit yes proceeds. A client without
elicitation gets a refusal that names the terminal command for the person to run (`cannot_ask`).

Only where the project sets `mcp_confirmation_tokens = true`, a first call instead returns the plan and a
short-lived, single-use token bound to that exact plan (its `fingerprint()`). That proves the plan was shown
to the assistant, not that a person agreed: the assistant could call again with the token on its own.
Unknown, reused, expired and other-plan tokens are refused.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Literal, Protocol

from pydantic import BaseModel, Field

from engine.errors import ConfirmationRequiredError, PgshiftError
from engine.database.runner import RollbackPlan

TTL_ENV = "PGSHIFT_MCP_CONFIRMATION_TTL"
DEFAULT_TTL_SECONDS = 300
Decision = Literal["not-asked", "yes", "no", "declined", "cancelled"]


class ConfirmRollback(BaseModel):
    """The form shown to the user (a single checkbox they must tick)."""

    confirm: bool = Field(title="Roll back now?",
                          description="Tick to run exactly the rollback SQL shown above on this database")


class Plan(Protocol):
    def fingerprint(self) -> str: ...


@dataclass(frozen=True)
class PlannedRollback:
    """The plan for this call, or the engine error that prevented planning (raised later, in the tool)."""

    plan: RollbackPlan | None
    error: PgshiftError | None = None


def ttl_from_environment(environ: dict[str, str] | None = None) -> float:
    """Seconds a token stays valid; `PGSHIFT_MCP_CONFIRMATION_TTL` overrides (tests set 0 for 'expired')."""
    value = (environ if environ is not None else os.environ).get(TTL_ENV)
    if value is None or not value.strip():
        return DEFAULT_TTL_SECONDS
    try:
        return max(0.0, float(value))
    except ValueError:
        return DEFAULT_TTL_SECONDS


@dataclass
class _Issued:
    fingerprint: str
    expires_at: float


class ConfirmationTokens:
    """Tokens issued by this server process; each is bound to one plan fingerprint and redeemable once."""

    def __init__(self, ttl_seconds: float, clock: Callable[[], float] = time.monotonic,
                 tool: str = "rollback") -> None:
        self.ttl_seconds = ttl_seconds
        self.tool = tool
        self.clock = clock
        self._issued: dict[str, _Issued] = {}
        self._spent: set[str] = set()
        self._lock = threading.Lock()

    def issue(self, plan: Plan) -> str:
        token = secrets.token_urlsafe(18)
        with self._lock:
            now = self.clock()
            # Forget expired tokens so the table cannot grow without bound.
            self._issued = {t: i for t, i in self._issued.items() if i.expires_at > now}
            self._issued[token] = _Issued(plan.fingerprint(), now + self.ttl_seconds)
        return token

    def redeem(self, token: str, plan: Plan) -> None:
        """Spend the token for `plan`, or raise. A token is spent by any attempt, successful or not."""
        with self._lock:
            issued = self._issued.pop(token, None)
            reused = token in self._spent
            self._spent.add(token)
        tool = self.tool
        if issued is None:
            if reused:
                raise ConfirmationRequiredError(
                    f"this confirmation token was already used; a token confirms one {tool} once",
                    help=f"call {tool} without a token to get the current plan, show it to the user, and use the "
                         "new token only after they explicitly say yes")
            raise ConfirmationRequiredError(
                "unknown confirmation token: it was not issued by this server (or the server restarted)",
                help=f"call {tool} without a token to get the plan and a token; never invent a token")
        if self.clock() >= issued.expires_at:
            raise ConfirmationRequiredError(
                f"the confirmation token expired (tokens are valid for {int(self.ttl_seconds)} s)",
                help=f"call {tool} without a token to get a fresh plan and token, and ask the user again")
        if issued.fingerprint != plan.fingerprint():
            raise ConfirmationRequiredError(
                f"the {tool} plan changed since the user confirmed it (other migrations, other SQL or another "
                "database), so the confirmation does not cover it",
                help=f"call {tool} without a token to get the new plan, show it to the user, and ask again")


def client_can_elicit(capabilities: Any) -> bool:
    """Form elicitation declared (a bare `elicitation: {}` from 2025-06-18 counts as form)."""
    elicitation = getattr(capabilities, "elicitation", None) if capabilities is not None else None
    return elicitation is not None and (elicitation.form is not None or elicitation.url is None)


def decision_of(answer: Any) -> Decision:
    """What the user said, from the injected ElicitationResult (data None means we did not ask)."""
    action = getattr(answer, "action", None)
    if action == "decline":
        return "declined"
    if action == "cancel":
        return "cancelled"
    data = getattr(answer, "data", None)
    if data is None:
        return "not-asked"
    return "yes" if getattr(data, "confirm", None) is True else "no"


def refuse(decision: Decision, tool: str = "rollback") -> ConfirmationRequiredError:
    reason = {"declined": "the user declined", "cancelled": "the user cancelled the question",
              "no": "the user did not tick the confirmation"}.get(decision, "not confirmed")
    return ConfirmationRequiredError(f"{tool} not run: {reason}; nothing was changed",
                                     help=f"do not retry unless the user asks for the {tool} again")


def cannot_ask(tool: str, plan_text: str, command: str) -> ConfirmationRequiredError:
    """No elicitation and no opt-in tokens: the person runs it themselves, after reading what it does."""
    return ConfirmationRequiredError(
        f"{tool} not run: it needs a person's yes, and this MCP client cannot ask one (it does not support "
        f"elicitation); nothing was changed.\n{plan_text}",
        help=f"show the user the plan above and ask them to run it in a terminal themselves: {command}")


def require_same_plan(confirmed: Plan, current: Plan, tool: str = "rollback") -> None:
    if confirmed.fingerprint() != current.fingerprint():
        raise ConfirmationRequiredError(
            f"the {tool} plan changed while the user was being asked, so their answer does not cover it",
            help=f"call {tool} again to ask the user about the new plan")


def describe_plan(plan: RollbackPlan, root: Path) -> str:
    """The elicitation message: which database, which migrations, and the exact SQL, newest first."""
    return plan.describe()
