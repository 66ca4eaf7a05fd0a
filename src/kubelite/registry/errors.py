"""Errors the registry raises. They name the resource and object, never an HTTP code:
``kubelite.api.errors`` alone turns them (and store errors) into Status bodies."""

from __future__ import annotations

from collections.abc import Sequence

from kubelite.errors import KubeliteError
from kubelite.model.fielderrors import FieldError


class RegistryError(KubeliteError):
    pass


class NotFoundError(RegistryError):
    """``<resource> "<name>" not found`` (e.g. a missing namespace on create)."""

    def __init__(self, resource: str, name: str, *, group: str = "") -> None:
        super().__init__(f'{resource} "{name}" not found')
        self.resource = resource
        self.name = name
        self.group = group


class Invalid(RegistryError):
    """A 422: the object breaks a validation rule; ``causes`` carry the field paths. ``group``
    is the kind's API group (``meta.k8s.io`` for DeleteOptions), named in the message as the
    API server names a GroupKind."""

    def __init__(
        self, kind: str, name: str, causes: Sequence[FieldError], *, group: str = ""
    ) -> None:
        self.kind = kind
        self.name = name
        self.group = group
        self.causes = list(dict.fromkeys(causes))
        super().__init__(self.text())

    def text(self) -> str:
        parts = [str(c) for c in self.causes]
        body = parts[0] if len(parts) == 1 else "[" + ", ".join(parts) + "]"
        qualified = f"{self.kind}.{self.group}" if self.group else self.kind
        return f'{qualified} "{self.name}" is invalid: {body}'


class BadRequest(RegistryError):
    """A 400: the request itself makes no sense (wrong kind, undecodable body …)."""


class Forbidden(RegistryError):
    """A 403 that is not about authorization, e.g. creating in a terminating namespace.
    ``causes`` are the Status's ``details.causes`` (``reason``, ``message``, ``field``)."""

    def __init__(
        self, resource: str, name: str, message: str, causes: Sequence[dict[str, str]] = ()
    ) -> None:
        super().__init__(message)
        self.resource = resource
        self.name = name
        self.causes = list(causes)


class OperationConflict(RegistryError):
    """A 409 with a reason of its own: ``Operation cannot be fulfilled on <resource> "<name>":
    <detail>`` (e.g. binding a pod that is already bound)."""

    def __init__(self, resource: str, name: str, detail: str) -> None:
        super().__init__(f'Operation cannot be fulfilled on {resource} "{name}": {detail}')
        self.resource = resource
        self.name = name


class MethodNotAllowed(RegistryError):
    """A 405: the verb is not supported on this resource."""


class Expired(RegistryError):
    """A 410: the revision a list (or a continue token) asks for is gone. ``continue_token``,
    if set, lets the client go on at the current revision, accepting an inconsistent list."""

    def __init__(self, message: str, continue_token: str = "") -> None:
        super().__init__(message)
        self.continue_token = continue_token
