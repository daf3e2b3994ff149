"""Accounts: add, list, disable, reset password, and check a login. Used by the CLI and routes."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...errors import InputError
from ..models import ROLES, User, utcnow
from ..security import hash_password, verify_password

MIN_PASSWORD = 8


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InputError(f"the password must have at least {MIN_PASSWORD} characters")


def add_user(s: Session, name: str, role: str, password: str, city: str | None = None) -> User:
    name = name.strip()
    if not name or len(name) > 64 or any(c.isspace() or c in "/\\\0" for c in name):
        raise InputError(f"user name {name!r}: 1-64 characters, no spaces or slashes")
    if role not in ROLES:
        raise InputError(f"role {role!r} is not one of {', '.join(ROLES)}")
    _check_password(password)
    if s.scalar(select(User).where(User.name == name)) is not None:
        raise InputError(f"user {name!r} already exists")
    user = User(name=name, role=role, city=city or None, password_hash=hash_password(password),
                disabled=False, session_version=0, created_at=utcnow())
    s.add(user)
    s.flush()
    return user


def get_user(s: Session, name: str) -> User:
    user = s.scalar(select(User).where(User.name == name))
    if user is None:
        raise InputError(f"no user named {name!r}")
    return user


def list_users(s: Session) -> list[User]:
    return list(s.scalars(select(User).order_by(User.name)))


def disable_user(s: Session, name: str) -> User:
    user = get_user(s, name)
    user.disabled = True
    user.session_version += 1  # logs out every browser and token at once
    return user


def reset_password(s: Session, name: str, password: str) -> User:
    _check_password(password)
    user = get_user(s, name)
    user.password_hash = hash_password(password)
    user.disabled = False
    user.session_version += 1
    return user


def authenticate(s: Session, name: str, password: str) -> User | None:
    """The user if the name and password match an enabled account, else None."""
    user = s.scalar(select(User).where(User.name == name.strip()))
    if user is None:
        verify_password(password, _DUMMY)  # same cost either way: no user-name oracle by timing
        return None
    if not verify_password(password, user.password_hash) or user.disabled:
        return None
    user.last_login_at = utcnow()
    return user


_DUMMY = hash_password("not-a-real-password")
