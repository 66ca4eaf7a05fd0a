"""CertificateSigningRequests (certificates.k8s.io/v1): cluster-scoped requests for a
certificate from a named signer, approved through ``/approval`` and answered through
``/status``, with the API server's strategy, validation and admission:

* create records the requester (``spec.username``, ``uid``, ``groups``, ``extra``) from the
  request and clears ``status``: nobody creates an approved request;
* the object itself changes neither spec nor status; ``/approval`` changes only the
  conditions; ``/status`` changes everything in status but the Approved/Denied conditions;
  condition times are filled in (``lastUpdateTime`` now if missing, ``lastTransitionTime``
  kept while the type's status is unchanged);
* validation: a well-signed PKCS#10 request, known and unique usages, a qualified signer name
  (``kubernetes.io/legacy-unknown`` not in v1), ``expirationSeconds`` >= 600, True-only
  Approved/Denied/Failed conditions, not both Approved and Denied, no removed condition, and
  ``status.certificate`` set once, through ``/status``, with CERTIFICATE PEM blocks only;
* admission: approving needs ``approve`` on ``signers`` (the signer's name or
  ``<domain>/*``), issuing needs ``sign``; a ``kube-apiserver-client`` request may not ask
  for ``system:masters``.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from cryptography import x509

from kubelite.clock import rfc3339
from kubelite.model import csr as c
from kubelite.model.fielderrors import (
    INVALID,
    FieldError,
    duplicate,
    forbidden,
    invalid,
    not_supported,
    required,
    too_long,
)
from kubelite.model.objects import Obj
from kubelite.model.podprint import human_duration
from kubelite.registry.errors import Forbidden
from kubelite.registry.meta_validation import dns1123_label_errors, dns1123_subdomain_errors
from kubelite.registry.rbac_escalation import REQUESTER
from kubelite.registry.rbac_rules import Attributes
from kubelite.registry.requestinfo import current_user, request_time
from kubelite.registry.resource import AGE_COLUMN, Column, Kind, Subresource, age_of
from kubelite.registry.selectors import path_getter

QUALIFIED = f"certificatesigningrequests.{c.GROUP}"
APPROVAL_TYPES = (c.APPROVED, c.DENIED)
TRUE_ONLY = (c.APPROVED, c.DENIED, c.FAILED)
STATUS_VALUES = ("False", "True", "Unknown")
_MAX_DOMAIN = 253
_MAX_SIGNER = 253 + 253 + 63 + 2
_TWO_SEGMENTS = "should be a domain with at least two segments separated by dots"
_EXCLUSIVE = "Approved and Denied conditions are mutually exclusive"
_LEGACY = "the legacy signerName is not allowed via this API version"
_TOO_SHORT = "may not specify a duration less than 600 seconds (10 minutes)"
_MASTERS = f"use of {c.APISERVER_CLIENT_SIGNER} signer with system:masters group is not allowed"


def _go_bytes(data: bytes) -> str:
    """A byte slice as Go's ``%#v`` prints it in a field error."""
    return "[]byte{" + ", ".join(f"0x{b:x}" for b in data) + "}"


def _conditions(obj: Obj) -> list[dict[str, Any]]:
    return c.conditions_of(obj)


def _stamp_conditions(new: list[dict[str, Any]], old: list[dict[str, Any]]) -> None:
    """``lastUpdateTime`` now where missing; ``lastTransitionTime`` kept from the old
    condition of the same type while its status holds, else now (populateConditionTimestamps)."""
    now = rfc3339(request_time())
    before = {str(o.get("type")): o for o in old}
    for cond in new:
        for key in ("lastUpdateTime", "lastTransitionTime"):
            if str(cond.get(key) or "").startswith("0001-"):  # Go's zero time, from protobuf
                cond.pop(key)
        if not cond.get("lastUpdateTime"):
            cond["lastUpdateTime"] = now
        if not cond.get("lastTransitionTime"):
            prior = before.get(str(cond.get("type")))
            same = prior is not None and prior.get("status") == cond.get("status")
            kept = prior.get("lastTransitionTime") if prior is not None and same else None
            cond["lastTransitionTime"] = kept or now


def signer_name_errors(path: str, name: str) -> list[FieldError]:
    """ValidateCertificateSigningRequestSignerName: ``example.com/signer-name``."""
    if not name:
        return [required(path, "signerName must be provided")]
    segments = name.split("/")
    if len(segments) != 2:
        return [
            invalid(
                path,
                name,
                "must be a fully qualified domain and path of the form 'example.com/signer-name'",
            )
        ]
    domain, rest = segments
    errs: list[FieldError] = []
    if len(domain) > _MAX_DOMAIN:
        errs.append(too_long(path, domain, _MAX_DOMAIN))
    labels = domain.split(".")
    for label in labels:
        problems = dns1123_label_errors(label)
        if problems:
            errs += [invalid(path, domain, f"validating label {label!r}: {p}") for p in problems]
            break
    if len(labels) < 2:
        errs.append(invalid(path, domain, _TWO_SEGMENTS))
    for label in rest.split("."):
        problems = dns1123_subdomain_errors(label)
        if problems:
            errs += [invalid(path, rest, f"validating label {label!r}: {p}") for p in problems]
            break
    if len(name) > _MAX_SIGNER:
        errs.append(too_long(path, name, _MAX_SIGNER))
    return errs


def _certificate_error(raw: Any) -> str:
    """validateCertificate: "" if ``raw`` (base64 of PEM) is empty or only CERTIFICATEs."""
    if not raw:
        return ""
    try:
        pem = base64.b64decode(str(raw), validate=True)
    except (binascii.Error, ValueError):
        return "must contain at least one CERTIFICATE PEM block"
    blocks = re.findall(rb"-----BEGIN ([A-Z0-9 ]+)-----", pem)
    if not blocks:
        return "must contain at least one CERTIFICATE PEM block"
    for kind in blocks:
        if kind != b"CERTIFICATE":
            return f"only CERTIFICATE PEM blocks are allowed, found {kind.decode()!r}".replace(
                "'", '"'
            )
    try:
        x509.load_pem_x509_certificates(pem)
    except ValueError as err:
        return str(err)
    return ""


def _condition_errors(obj: Obj) -> list[FieldError]:
    errs: list[FieldError] = []
    seen: set[str] = set()
    approved = denied = False
    for i, cond in enumerate(_conditions(obj)):
        path = f"status.conditions[{i}]"
        kind, status = str(cond.get("type") or ""), str(cond.get("status") or "")
        if not kind:
            errs.append(required(f"{path}.type"))
        allowed = ["True"] if kind in TRUE_ONLY else list(STATUS_VALUES)
        if not status:
            errs.append(required(f"{path}.status"))
        elif status not in allowed:
            errs.append(not_supported(f"{path}.status", status, allowed))
        if kind == c.APPROVED:
            approved = True
            if denied:
                errs.append(invalid(f"{path}.type", kind, _EXCLUSIVE))
        elif kind == c.DENIED:
            denied = True
            if approved:
                errs.append(invalid(f"{path}.type", kind, _EXCLUSIVE))
        if kind in seen:
            errs.append(duplicate(f"{path}.type", kind))
        seen.add(kind)
    return errs


def validate_csr(obj: Obj) -> list[FieldError]:
    spec = obj.get("spec") or {}
    errs: list[FieldError] = []
    pem = c.request_bytes(obj)
    try:
        c.parse_request(pem)
    except c.CsrError as err:
        errs.append(FieldError(INVALID, "spec.request", f"Invalid value: {_go_bytes(pem)}: {err}"))
    usages = spec.get("usages") or []
    if not usages:
        errs.append(required("spec.usages", "usages must be provided"))
    for i, usage in enumerate(usages):
        if usage not in c.VALID_USAGES:
            errs.append(not_supported(f"spec.usages[{i}]", usage, list(c.VALID_USAGES)))
    for i, usage in enumerate(usages):
        if usage in usages[:i]:
            errs.append(duplicate(f"spec.usages[{i}]", usage))
    signer = str(spec.get("signerName") or "")
    if signer == c.LEGACY_UNKNOWN_SIGNER:
        errs.append(invalid("spec.signerName", signer, _LEGACY))
    else:
        errs += signer_name_errors("spec.signerName", signer)
    seconds = spec.get("expirationSeconds")
    if isinstance(seconds, int) and seconds < c.MIN_EXPIRATION_SECONDS:
        errs.append(invalid("spec.expirationSeconds", seconds, _TOO_SHORT))
    errs += _condition_errors(obj)
    problem = _certificate_error((obj.get("status") or {}).get("certificate"))
    if problem:
        errs.append(invalid("status.certificate", "<certificate data>", problem))
    return errs


def _of_type(obj: Obj, kind: str) -> list[dict[str, Any]]:
    return [cond for cond in _conditions(obj) if cond.get("type") == kind]


def validate_csr_update(new: Obj, old: Obj, subresource: str) -> list[FieldError]:
    errs = validate_csr(new)
    for kind in (c.APPROVED, c.DENIED, c.FAILED):
        if len(_of_type(new, kind)) < len(_of_type(old, kind)):
            errs.append(forbidden("status.conditions", _change("remove", kind)))
    if subresource != "approval":
        for kind in APPROVAL_TYPES:
            before, after = _of_type(old, kind), _of_type(new, kind)
            if len(after) > len(before):
                errs.append(forbidden("status.conditions", _change("add", kind)))
            elif len(after) == len(before) and after != before:
                errs.append(forbidden("status.conditions", _change("modify", kind)))
    cert_new = (new.get("status") or {}).get("certificate") or ""
    cert_old = (old.get("status") or {}).get("certificate") or ""
    if cert_new != cert_old:
        if subresource != "status":
            errs.append(forbidden("status.certificate", "updates may not set certificate content"))
        elif cert_old:
            detail = "updates may not modify existing certificate content"
            errs.append(forbidden("status.certificate", detail))
    return errs


def _authorized_for_signer(verb: str, signer: str) -> bool:
    """IsAuthorizedForSignerName, for the requester of the current request (kubelite's own
    writes and system:masters are authorized)."""
    requester = REQUESTER.get()
    if requester is None:
        return True
    names = [signer]
    if "/" in signer:
        names.append(signer.split("/", 1)[0] + "/*")
    for name in names:
        attrs = Attributes(verb=verb, api_group=c.GROUP, resource="signers", name=name)
        if requester.policy.authorize(requester.user, attrs).allowed:
            return True
    return False


def _not_permitted(verb: str, signer: str) -> str:
    return f'user not permitted to {verb} requests with signerName "{signer}"'


def _change(verb: str, kind: str) -> str:
    return f'updates may not {verb} a condition of type "{kind}"'


def _refuse(name: str, reason: str) -> Forbidden:
    return Forbidden(QUALIFIED, name, f'{QUALIFIED} "{name}" is forbidden: {reason}')


class CertificateSigningRequestKind(Kind):
    def name_errors(self, name: str) -> list[str]:
        return []  # "We don't care what you call your certificate requests."

    def prepare_create(self, obj: Obj) -> None:
        spec = obj.setdefault("spec", {})
        user = current_user()
        if user is not None:
            spec["username"] = user.name
            spec["uid"] = user.uid
            spec["groups"] = list(user.groups)
            spec["extra"] = {k: list(v) for k, v in user.extra.items()}
            for key in ("uid", "extra"):
                if not spec[key]:
                    del spec[key]
        obj["status"] = {}
        self._restrict_subject(obj)

    @staticmethod
    def _restrict_subject(obj: Obj) -> None:
        """CertificateSubjectRestriction: no ``system:masters`` from the API client signer."""
        if c.signer_of(obj) != c.APISERVER_CLIENT_SIGNER:
            return
        try:
            req = c.parse_request(c.request_bytes(obj))
        except c.CsrError:
            return  # validation reports it
        if "system:masters" in c.organizations(req):
            name = str(obj["metadata"].get("name") or "")
            raise _refuse(name, _MASTERS)

    def prepare_update(self, new: Obj, old: Obj, subresource: str) -> None:
        new["spec"] = old.get("spec", {})
        old_status = dict(old.get("status") or {})
        given = new.get("status") if isinstance(new.get("status"), dict) else {}
        assert isinstance(given, dict)
        old_conds = _conditions(old)
        name = str(old["metadata"].get("name") or "")
        if subresource == "approval":
            conds = [dict(x) for x in given.get("conditions") or [] if isinstance(x, dict)]
            _stamp_conditions(conds, old_conds)
            new["status"] = {**old_status, "conditions": conds}
            if [x for x in conds if x.get("type") in APPROVAL_TYPES] != [
                x for x in old_conds if x.get("type") in APPROVAL_TYPES
            ] and not _authorized_for_signer("approve", c.signer_of(old)):
                raise _refuse(name, _not_permitted("approve", c.signer_of(old)))
        elif subresource == "status":
            conds = [
                dict(x)
                for x in given.get("conditions") or []
                if isinstance(x, dict) and x.get("type") not in APPROVAL_TYPES
            ]
            _stamp_conditions(conds, old_conds)
            conds += [x for x in old_conds if x.get("type") in APPROVAL_TYPES]
            new["status"] = {**given, "conditions": conds}
            if (given.get("certificate") or "") != (old_status.get("certificate") or "") and (
                not _authorized_for_signer("sign", c.signer_of(old))
            ):
                raise _refuse(name, _not_permitted("sign", c.signer_of(old)))
        else:
            new["status"] = old_status

    def validate(self, obj: Obj) -> list[FieldError]:
        return validate_csr(obj)

    def validate_update(self, new: Obj, old: Obj, subresource: str = "") -> list[FieldError]:
        return validate_csr_update(new, old, subresource)

    def columns(self) -> list[Column]:
        return [
            Column("Name", format="name", description="Name of the request."),
            AGE_COLUMN,
            Column("SignerName", description="The signer asked to sign the certificate."),
            Column("Requestor", description="The user who made the request."),
            Column("RequestedDuration", description="How long the certificate is asked for."),
            Column("Condition", description="Approved or Denied (else Pending), Failed, Issued."),
        ]

    def cells(self, obj: Obj, now: float) -> list[Any]:
        spec = obj.get("spec") or {}
        seconds = spec.get("expirationSeconds")
        duration = human_duration(float(seconds)) if isinstance(seconds, int) else "<none>"
        return [
            obj["metadata"]["name"],
            age_of(obj, now),
            spec.get("signerName") or "<none>",
            spec.get("username") or "",
            duration,
            c.condition_summary(obj),
        ]


CERTIFICATESIGNINGREQUESTS = CertificateSigningRequestKind(
    group=c.GROUP,
    version="v1",
    kind="CertificateSigningRequest",
    plural="certificatesigningrequests",
    singular="certificatesigningrequest",
    namespaced=False,
    short_names=("csr",),
    description="A request for a signed certificate from a named signer.",
    subresources=(
        Subresource(
            "approval", "CertificateSigningRequest", ("get", "patch", "update"), group=c.GROUP
        ),
        Subresource(
            "status", "CertificateSigningRequest", ("get", "patch", "update"), group=c.GROUP
        ),
    ),
    fields={"spec.signerName": path_getter("spec", "signerName")},
)
