"""The README's "Walk-through with curl", done with the client generated from openapi/openapi.json.

Uses only the generated package `license_manager_client` (its `api.*` modules and `models`);
run it through run.sh, which generates that package. Environment:

  BASE_URL            server root, e.g. http://127.0.0.1:8080 (a trailing /api/v1 is accepted)
  OWNER_USERNAME      an owner's username
  OWNER_PASSWORD      that owner's password (temporary or not)
  NEW_OWNER_PASSWORD  the password to choose if the owner must change theirs
                      (default Tangerine-Lighthouse-Oboe-27)

Prints one line per step; exits 1 with a message naming the failing step otherwise.
"""

from __future__ import annotations

import os
import sys
import uuid
from http import HTTPStatus
from typing import Any, NoReturn

from license_manager_client import AuthenticatedClient, Client
from license_manager_client.api.auth import login
from license_manager_client.api.me import change_my_password
from license_manager_client.api.users import (
    create_user,
    disable_user,
    get_user_history,
    list_users,
)
from license_manager_client.models import (
    Action,
    ChangePassword,
    CreateUser,
    EventPage,
    Login,
    Problem,
    Role,
    Status,
    Tokens,
    User,
    UserPage,
)
from license_manager_client.types import Response

NEW_USER_PASSWORD = "Analytical-Engine-1843"
TIMEOUT_SECONDS = 30.0


class StepFailed(Exception):
    pass


def fail(step: str, message: str) -> NoReturn:
    raise StepFailed(f"{step}: {message}")


def check(step: str, condition: bool, message: str) -> None:
    if not condition:
        fail(step, message)


def expect(step: str, response: Response[Any], status: HTTPStatus, kind: type | None) -> Any:
    """The typed body of `response`, which must have `status` and parse as `kind` (None: no body)."""
    parsed = response.parsed
    if response.status_code != status:
        if isinstance(parsed, Problem):
            fail(
                step,
                f"expected HTTP {status.value}, got {parsed.status} {parsed.code}: {parsed.detail}"
                f" (request id {parsed.request_id})",
            )
        body = response.content[:500].decode("utf-8", "replace")
        fail(step, f"expected HTTP {status.value}, got {response.status_code.value}: {body}")
    if kind is None:
        return None
    if not isinstance(parsed, kind):
        fail(step, f"expected a {kind.__name__}, got {type(parsed).__name__}: {parsed!r}")
    return parsed


def sign_in(base_url: str, username: str, password: str, step: str) -> Tokens:
    with Client(base_url=base_url, timeout=TIMEOUT_SECONDS, raise_on_unexpected_status=True) as anon:
        tokens: Tokens = expect(
            step,
            login.sync_detailed(client=anon, body=Login(username=username, password=password)),
            HTTPStatus.OK,
            Tokens,
        )
    check(step, bool(tokens.access_token), "empty access_token")
    check(step, tokens.token_type == "Bearer", f"token_type is {tokens.token_type!r}, not 'Bearer'")
    check(step, tokens.user.role == Role.OWNER, f"{username} is a {tokens.user.role}, not an owner")
    check(
        step,
        tokens.user.must_change_password == tokens.must_change_password,
        "must_change_password differs between the tokens and their user",
    )
    return tokens


def authed(base_url: str, tokens: Tokens) -> AuthenticatedClient:
    return AuthenticatedClient(
        base_url=base_url,
        token=tokens.access_token,
        timeout=TIMEOUT_SECONDS,
        raise_on_unexpected_status=True,
    )


def env(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if not value:
        raise StepFailed(f"environment variable {name} is not set")
    return value


def main() -> None:
    base_url = env("BASE_URL").rstrip("/")
    base_url = base_url.removesuffix("/api/v1")  # the generated paths already start with /api/v1
    owner_username = env("OWNER_USERNAME")
    owner_password = env("OWNER_PASSWORD")
    new_owner_password = env("NEW_OWNER_PASSWORD", "Tangerine-Lighthouse-Oboe-27")

    # 1. Sign in.
    step = "1. sign in"
    tokens = sign_in(base_url, owner_username, owner_password, step)
    print(
        f"{step}: signed in as {tokens.user.username} ({tokens.user.role}),"
        f" must_change_password={str(tokens.must_change_password).lower()}"
    )

    # 2. Choose your own password, if the current one is temporary; then sign in again.
    step = "2. change password"
    if tokens.must_change_password:
        with authed(base_url, tokens) as client:
            expect(
                step,
                change_my_password.sync_detailed(
                    client=client,
                    body=ChangePassword(
                        current_password=owner_password, new_password=new_owner_password
                    ),
                ),
                HTTPStatus.NO_CONTENT,
                None,
            )
        print(f"{step}: PUT /me/password -> 204")
        step = "2. sign in again"
        tokens = sign_in(base_url, owner_username, new_owner_password, step)
        check(step, not tokens.must_change_password, "must_change_password is still true")
        print(f"{step}: signed in with the new password, must_change_password=false")
    else:
        print(f"{step}: not needed (must_change_password=false)")

    with authed(base_url, tokens) as client:
        # 3. Create a user with a temporary password.
        step = "3. create user"
        suffix = uuid.uuid4().hex[:12]
        username = f"ada.{suffix}@example.com"
        created: User = expect(
            step,
            create_user.sync_detailed(
                client=client,
                body=CreateUser(
                    name="Ada Lovelace",
                    username=username,
                    email=username,
                    password=NEW_USER_PASSWORD,
                    role=Role.EDITOR,
                ),
            ),
            HTTPStatus.CREATED,
            User,
        )
        check(step, created.username == username, f"username is {created.username!r}")
        check(step, created.role == Role.EDITOR, f"role is {created.role}, not editor")
        check(step, created.status == Status.ACTIVE, f"status is {created.status}, not active")
        check(step, created.must_change_password, "a new user's password should be temporary")
        check(step, created.version == 1, f"version is {created.version}, not 1")
        check(
            step,
            created.company_id == tokens.user.company_id,
            "the user was created in another company than the owner's",
        )
        print(f"{step}: {created.username} id={created.id} role={created.role} status={created.status}")

        # 4. List users, filtered by role and a search term.
        step = "4. list users"
        page: UserPage = expect(
            step,
            list_users.sync_detailed(client=client, role=Role.EDITOR.value, q=username),
            HTTPStatus.OK,
            UserPage,
        )
        found = [u.username for u in page.items]
        check(step, page.total == 1, f"total is {page.total}, not 1 (items: {found})")
        check(step, len(page.items) == 1, f"{len(page.items)} items, not 1: {found}")
        check(step, page.items[0].id == created.id, f"listed {page.items[0].id}, not {created.id}")
        check(step, page.items[0].role == Role.EDITOR, f"listed role {page.items[0].role}")
        print(f"{step}: role=editor q={username} -> total={page.total} items={found}")

        # 5. Disable the user.
        step = "5. disable user"
        disabled: User = expect(
            step, disable_user.sync_detailed(created.id, client=client), HTTPStatus.OK, User
        )
        check(step, disabled.id == created.id, f"disabled {disabled.id}, not {created.id}")
        check(step, disabled.status == Status.DISABLED, f"status is {disabled.status}, not disabled")
        check(step, disabled.version == 2, f"version is {disabled.version}, not 2")
        print(f"{step}: status={disabled.status} version={disabled.version}")

        # 6. Read the user's history, newest first.
        step = "6. user history"
        history: EventPage = expect(
            step, get_user_history.sync_detailed(created.id, client=client), HTTPStatus.OK, EventPage
        )
        actions = [e.action for e in history.items]
        check(
            step,
            actions == [Action.USER_DISABLED, Action.USER_CREATED],
            f"actions are {[str(a) for a in actions]}, not ['user.disabled', 'user.created']",
        )
        check(
            step,
            history.items[0].occurred_at >= history.items[1].occurred_at,
            "events are not newest first",
        )
        print(f"{step}: " + ", ".join(f"{e.occurred_at.isoformat()} {e.action}" for e in history.items))

    print("walk-through passed")


if __name__ == "__main__":
    try:
        main()
    except StepFailed as e:
        print(f"FAILED {e}", file=sys.stderr)
        sys.exit(1)
    except Exception as e:  # network errors, undocumented statuses, bodies that do not parse
        print(f"FAILED with {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
