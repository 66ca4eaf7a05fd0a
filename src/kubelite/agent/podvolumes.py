"""A pod's volumes as the runtime prepares them: the agent resolves data, the runtime writes it.

configMap, secret, downwardAPI and projected volumes become ``FilesVolume`` records holding the
files' bytes (``items`` applied, modes decided); emptyDir and hostPath pass through. Pure, like
``envvars``: the referenced objects are fetched beforehand, and so are the tokens of projected
``serviceAccountToken`` sources (``token_requests`` says which; the pod worker asks the API
for them, bound to the pod, and passes them in by ``TokenKey``).

File modes are the kubelet's: the volume's ``defaultMode`` or the item's ``mode``; a token file
gets the default mode too, unless every container of the pod runs as one user named by
``runAsUser`` (the kubelet's FsUser: the token is then 0600 and that user's) or the pod has an
fsGroup (0600, then group-readable through the volume ownership: 0640).

Where the content lives is the kubelet's too: secret, projected and downwardAPI volumes on a
tmpfs of their own (never on the node's disk), configMap volumes on disk. A tmpfs is sized as
the kubelet sizes memory-backed volumes (VOL-2): the volume's ``sizeLimit`` if it is smaller
than the pod's memory limit (when every container has one), else that limit, else the node's
memory.

A ``persistentVolumeClaim`` volume becomes a ``ClaimVolume``: the folder of the volume its
claim is bound to (``claims`` resolved it), with the pod's ``readOnly`` and fsGroup change
policy. Claims that cannot be mounted yet fail the pod's volumes together with the kubelet's
text (``Unable to attach or mount volumes: unmounted volumes=[…] …``: ``ClaimsNotReady``).

A failure names its volume (``VolumeError.volume``) for the FailedMount event
(``failed_mount_event``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kubelite.agent import eventtext
from kubelite.agent.claims import Claims, ResolvedClaim
from kubelite.agent.envvars import (
    ConfigError,
    NodeFacts,
    Objects,
    configmap_data,
    field_ref_value,
    resource_field_value,
    secret_data,
)
from kubelite.agent.podlimits import pod_cgroup_limits
from kubelite.model.pod import PodSpec
from kubelite.model.quantity import QuantityError, to_int
from kubelite.runtime.interface import (
    ClaimVolume,
    EmptyDirVolume,
    FilesVolume,
    HostPathVolume,
    ProjectedFile,
    VolumeSpec,
)

DEFAULT_MODE = 0o644
MEMORY = "Memory"


DEFAULT_TOKEN_SECONDS = 3600  # ServiceAccountTokenProjection.expirationSeconds when unset
TOKEN_MODE = 0o600  # for the pod's one user (FsUser)
TOKEN_MODE_WITH_FS_GROUP = 0o640  # 0600, plus group read from the volume's ownership


class VolumeError(ConfigError):
    """A volume could not be prepared; ``volume`` names it."""

    def __init__(self, volume: str, message: str) -> None:
        super().__init__(message)
        self.volume = volume


class ClaimsNotReady(VolumeError):
    """Some of the pod's claims cannot be mounted yet; the message is the kubelet's."""

    def __init__(self, volumes: list[str], errors: list[str]) -> None:
        names = " ".join(volumes)
        super().__init__(
            volumes[0],
            f"Unable to attach or mount volumes: unmounted volumes=[{names}], unattached "
            f"volumes=[{names}], failed to process volumes=[{names}]: {'; '.join(errors)}",
        )


def failed_mount_event(err: Exception) -> eventtext.Event:
    """The FailedMount event for a volume set-up that failed."""
    if isinstance(err, ClaimsNotReady):
        return eventtext.Event(eventtext.WARNING, "FailedMount", str(err))
    return eventtext.failed_mount(err.volume if isinstance(err, VolumeError) else "", str(err))


@dataclass(frozen=True, slots=True)
class TokenKey:
    """What a serviceAccountToken source asks for; the pod's account and binding are implied."""

    audience: str  # "" for the API server's own audiences
    expiration_seconds: int


Tokens = Mapping[TokenKey, str]


def token_key(source: Mapping[str, Any]) -> TokenKey:
    seconds = source.get("expirationSeconds")
    return TokenKey(
        str(source.get("audience") or ""),
        int(seconds) if isinstance(seconds, int) else DEFAULT_TOKEN_SECONDS,
    )


def token_requests(pod: Mapping[str, Any]) -> dict[TokenKey, str]:
    """The tokens the pod's projected volumes need, each with the first volume that needs it."""
    out: dict[TokenKey, str] = {}
    for vol in (pod.get("spec") or {}).get("volumes") or []:
        for source in (vol.get("projected") or {}).get("sources") or []:
            if isinstance(source.get("serviceAccountToken"), dict):
                out.setdefault(token_key(source["serviceAccountToken"]), str(vol.get("name")))
    return out


def fs_user(pod: Mapping[str, Any]) -> int | None:
    """The kubelet's FsUser: the ``runAsUser`` every container (init, app and ephemeral) runs
    as, from its own securityContext or else the pod's; None when one names none or two
    differ."""
    spec = pod.get("spec") or {}
    pod_user = (spec.get("securityContext") or {}).get("runAsUser")
    found: int | None = None
    containers = [
        *(spec.get("initContainers") or ()),
        *(spec.get("containers") or ()),
        *(spec.get("ephemeralContainers") or ()),
    ]
    for c in containers:
        user = (c.get("securityContext") or {}).get("runAsUser")
        user = pod_user if user is None else user
        if not isinstance(user, int) or (found is not None and user != found):
            return None
        found = user
    return found


def fs_group(pod: Mapping[str, Any]) -> int | None:
    """The pod's ``securityContext.fsGroup``: the group its volumes are made writable for."""
    group = ((pod.get("spec") or {}).get("securityContext") or {}).get("fsGroup")
    return group if isinstance(group, int) else None


def token_file_mode(pod: Mapping[str, Any], default_mode: int) -> int:
    """The mode of a projected token file (see the module docstring)."""
    if fs_group(pod) is not None:
        return TOKEN_MODE_WITH_FS_GROUP
    return TOKEN_MODE if fs_user(pod) is not None else default_mode


def _quantity(value: Any) -> int | None:
    try:
        return to_int(value)
    except (QuantityError, TypeError, ValueError):
        return None


def memory_volume_size(
    pod_limit: int | None, size_limit: int | None, node_memory: str
) -> int | None:
    """VOL-2: the size of a memory-backed volume's tmpfs: ``size_limit`` if smaller than the
    pod cgroup's memory limit (``podlimits``, when it has one), else that limit, else the
    node's memory."""
    size = _quantity(node_memory)
    if pod_limit is not None and pod_limit > 0 and (size is None or pod_limit <= size):
        size = pod_limit
    if size_limit is not None and size_limit > 0 and (size is None or size_limit <= size):
        size = size_limit
    return size


@dataclass(frozen=True, slots=True)
class _Inputs:
    """What every volume of one pod is resolved with."""

    pod: Mapping[str, Any]  # the Pod object: the downward API reads its fields by path
    objects: Objects
    node: NodeFacts
    tokens: Tokens
    pod_memory: int | None  # the pod cgroup's memory limit (VOL-2)


def pod_volumes(
    pod: PodSpec,
    objects: Objects,
    node: NodeFacts,
    tokens: Tokens | None = None,
    claims: Claims | None = None,
) -> list[VolumeSpec]:
    """Every volume of the pod, resolved; ``tokens`` holds what ``token_requests`` asked for,
    ``claims`` what ``claims.resolve_claims`` found for the pod's claims."""
    inputs = _Inputs(pod.raw, objects, node, tokens or {}, pod_cgroup_limits(pod).memory_limit)
    out: list[VolumeSpec] = []
    waiting: list[str] = []
    errors: list[str] = []
    for vol in (pod.raw.get("spec") or {}).get("volumes") or []:
        source = vol.get("persistentVolumeClaim")
        if isinstance(source, dict):
            found = _claim_volume(pod.raw, vol, source, claims or {})
            if isinstance(found, str):
                waiting.append(str(vol.get("name") or ""))
                if found not in errors:
                    errors.append(found)
            else:
                out.append(found)
            continue
        try:
            spec = _volume(inputs, vol)
        except VolumeError:
            raise
        except ConfigError as err:
            raise VolumeError(str(vol.get("name") or ""), str(err)) from err
        if spec is not None:
            out.append(spec)
    if waiting:
        raise ClaimsNotReady(waiting, errors)
    return out


def _claim_volume(
    pod: Mapping[str, Any], vol: Mapping[str, Any], source: Mapping[str, Any], claims: Claims
) -> ClaimVolume | str:
    claim = str(source.get("claimName") or "")
    found = claims.get(claim)
    if found is None:
        return f"error processing PVC {claim}: it was not looked up"
    if not isinstance(found, ResolvedClaim):
        return found
    policy = ((pod.get("spec") or {}).get("securityContext") or {}).get("fsGroupChangePolicy")
    return ClaimVolume(
        str(vol.get("name") or ""),
        found.path,
        found.type,
        read_only=bool(source.get("readOnly")),
        manage_ownership=found.manage_ownership,
        ownership_policy=str(policy or "Always"),
    )


def _volume(inputs: _Inputs, vol: dict[str, Any]) -> VolumeSpec | None:
    pod, objects, node = inputs.pod, inputs.objects, inputs.node
    name = vol.get("name", "")
    if "emptyDir" in vol:
        ed = vol["emptyDir"] or {}
        limit = ed.get("sizeLimit")
        size = to_int(limit) if limit else None
        medium = ed.get("medium", "") or ""
        if medium == MEMORY:
            size = memory_volume_size(inputs.pod_memory, size, node.memory)  # VOL-2
        return EmptyDirVolume(name, medium, size)
    if "hostPath" in vol:
        hp = vol["hostPath"]
        return HostPathVolume(name, hp.get("path", ""), hp.get("type", "") or "")
    if "configMap" in vol:
        src = vol["configMap"]
        files = _from_object(src, objects.configmaps, "configmap", src.get("name", ""))
        return FilesVolume(name, tuple(files), src.get("defaultMode", DEFAULT_MODE))
    # The others may hold secrets: on a tmpfs, as the kubelet keeps them.
    if "secret" in vol:
        src = vol["secret"]
        files = _from_object(src, objects.secrets, "secret", src.get("secretName", ""))
    elif "downwardAPI" in vol:
        src = vol["downwardAPI"]
        files = _downward(pod, src.get("items") or [], node)
    elif "projected" in vol:
        src = vol["projected"]
        files = _projected(pod, src, objects, node, inputs.tokens)
    else:
        return None  # unsupported sources are rejected by validation; nothing to prepare here
    mode = src.get("defaultMode", DEFAULT_MODE)
    size = memory_volume_size(inputs.pod_memory, None, node.memory)
    return FilesVolume(name, tuple(files), mode, medium=MEMORY, size_limit=size)


def _from_object(src: dict[str, Any], pool: Any, kind: str, obj_name: str) -> list[ProjectedFile]:
    obj = pool.get(obj_name)
    if obj is None:
        if src.get("optional"):
            return []
        raise ConfigError(f'{kind} "{obj_name}" not found')
    data = configmap_data(obj) if kind == "configmap" else secret_data(obj)
    items = src.get("items")
    if not items:
        return [ProjectedFile(k, v) for k, v in sorted(data.items())]
    files = []
    for item in items:
        key = item.get("key", "")
        if key not in data:
            if src.get("optional"):
                continue
            raise ConfigError(
                f"configmap references non-existent config key: {key}"
                if kind == "configmap"
                else f"references non-existent secret key: {key}"
            )
        files.append(ProjectedFile(item.get("path", key), data[key], item.get("mode")))
    return files


def _downward(
    pod: Mapping[str, Any], items: list[dict[str, Any]], node: NodeFacts
) -> list[ProjectedFile]:
    files = []
    containers = {c.get("name"): c for c in pod.get("spec", {}).get("containers", [])}
    for item in items:
        if "fieldRef" in item:
            text = field_ref_value(pod, item["fieldRef"].get("fieldPath", ""), node)
        else:
            ref = item.get("resourceFieldRef") or {}
            container = containers.get(ref.get("containerName", ""), {})
            text = resource_field_value(container, ref, node)
        files.append(ProjectedFile(item.get("path", ""), text.encode(), item.get("mode")))
    return files


def _projected(
    pod: Mapping[str, Any], src: dict[str, Any], objects: Objects, node: NodeFacts, tokens: Tokens
) -> list[ProjectedFile]:
    files: list[ProjectedFile] = []
    default_mode = src.get("defaultMode", DEFAULT_MODE)
    for source in src.get("sources") or []:
        if "configMap" in source:
            s = source["configMap"]
            files += _from_object(s, objects.configmaps, "configmap", s.get("name", ""))
        elif "secret" in source:
            s = source["secret"]
            files += _from_object(s, objects.secrets, "secret", s.get("name", ""))
        elif "downwardAPI" in source:
            files += _downward(pod, source["downwardAPI"].get("items") or [], node)
        elif isinstance(source.get("serviceAccountToken"), dict):
            s = source["serviceAccountToken"]
            token = tokens.get(token_key(s))
            if token is None:
                raise ConfigError("failed to fetch token: no token was requested for this source")
            mode = token_file_mode(pod, default_mode)
            files.append(
                ProjectedFile(str(s.get("path") or ""), token.encode(), mode, fs_user(pod))
            )
    return files
