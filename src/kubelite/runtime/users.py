"""Which uid, gid and supplementary groups a container process runs as.

The kubelet's ``runAsUser``/``runAsGroup`` win; otherwise the image's ``USER`` applies, which
may name a user or group that only the image's own ``/etc/passwd`` and ``/etc/group`` know.
Parsing is pure; ``read_account_files`` is the only I/O and reads inside the container rootfs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kubelite.runtime.interface import CreateContainerConfigError, SecurityContext


@dataclass(frozen=True, slots=True)
class ProcessUser:
    uid: int
    gid: int
    additional_gids: tuple[int, ...] = ()
    name: str = ""  # the user name when the image named one (for runAsNonRoot's message)


@dataclass(frozen=True, slots=True)
class AccountFiles:
    passwd: str = ""
    group: str = ""


def read_account_files(rootfs: Path) -> AccountFiles:
    """The image's passwd and group files, empty when absent. Symlinks are not followed out."""

    def read(rel: str) -> str:
        path = rootfs / rel
        try:
            if path.is_symlink():
                return ""
            return path.read_text(errors="replace")
        except OSError:
            return ""

    return AccountFiles(passwd=read("etc/passwd"), group=read("etc/group"))


def _rows(text: str) -> list[list[str]]:
    return [ln.split(":") for ln in text.splitlines() if ln and not ln.startswith("#")]


def _passwd_by_name(files: AccountFiles, name: str) -> tuple[int, int] | None:
    for row in _rows(files.passwd):
        if len(row) >= 4 and row[0] == name and row[2].isdigit() and row[3].isdigit():
            return int(row[2]), int(row[3])
    return None


def _passwd_by_uid(files: AccountFiles, uid: int) -> tuple[str, int] | None:
    for row in _rows(files.passwd):
        if len(row) >= 4 and row[2] == str(uid) and row[3].isdigit():
            return row[0], int(row[3])
    return None


def _group_gid(files: AccountFiles, name: str) -> int | None:
    for row in _rows(files.group):
        if len(row) >= 3 and row[0] == name and row[2].isdigit():
            return int(row[2])
    return None


def _member_gids(files: AccountFiles, user: str) -> list[int]:
    gids = []
    for row in _rows(files.group):
        if len(row) >= 4 and row[2].isdigit() and user in row[3].split(","):
            gids.append(int(row[2]))
    return gids


def image_user_is_numeric(image_user: str) -> bool:
    """True when the image's USER names its user by number (``"1000"``, ``"1000:50"``)."""
    user = image_user.partition(":")[0]
    return user == "" or user.isdigit()


def resolve_user(image_user: str, security: SecurityContext, files: AccountFiles) -> ProcessUser:
    """Work out the process identity the way containerd's CRI plugin does.

    ``runAsUser`` replaces the image user; ``runAsGroup`` replaces the primary group, which
    otherwise comes from passwd (0 when unknown). Supplementary groups are the user's groups in
    /etc/group, then ``supplementalGroups``, then ``fsGroup``.
    """
    user_part, _, group_part = image_user.partition(":")
    name = ""
    if security.run_as_user is not None:
        uid = security.run_as_user
        known = _passwd_by_uid(files, uid)
        name, gid = known if known else ("", 0)
    elif user_part == "" or user_part.isdigit():
        uid = int(user_part or 0)
        known = _passwd_by_uid(files, uid)
        name, gid = known if known else ("", 0)
    else:
        found = _passwd_by_name(files, user_part)
        if found is None:
            raise CreateContainerConfigError(
                f"unable to find user {user_part}: no matching entries in passwd file"
            )
        uid, gid = found
        name = user_part
    if security.run_as_group is not None:
        gid = security.run_as_group
    elif group_part and security.run_as_user is None:
        if group_part.isdigit():
            gid = int(group_part)
        else:
            found_gid = _group_gid(files, group_part)
            if found_gid is None:
                raise CreateContainerConfigError(
                    f"unable to find group {group_part}: no matching entries in group file"
                )
            gid = found_gid
    extra: list[int] = []
    for g in [*(_member_gids(files, name) if name else []), *security.supplemental_groups]:
        if g not in extra and g != gid:
            extra.append(g)
    if security.fs_group is not None and security.fs_group not in extra:
        extra.append(security.fs_group)
    return ProcessUser(uid=uid, gid=gid, additional_gids=tuple(extra), name=name)


def check_run_as_non_root(
    image_user: str, security: SecurityContext, pod: str, container: str
) -> None:
    """Refuse to run as root when ``runAsNonRoot`` is set, with the kubelet's texts.

    ``pod`` is the kubelet's pod label ``<name>_<namespace>(<uid>)``."""
    if not security.run_as_non_root:
        return
    if security.run_as_user is not None:
        if security.run_as_user == 0:
            raise CreateContainerConfigError(
                "container's runAsUser breaks non-root policy "
                f'(pod: "{pod}", container: {container})'
            )
        return
    if not image_user_is_numeric(image_user):
        user = image_user.partition(":")[0]
        raise CreateContainerConfigError(
            f"container has runAsNonRoot and image has non-numeric user ({user}), cannot verify "
            f'user is non-root (pod: "{pod}", container: {container})'
        )
    if int(image_user.partition(":")[0] or 0) == 0:
        raise CreateContainerConfigError(
            "container has runAsNonRoot and image will run as root "
            f'(pod: "{pod}", container: {container})'
        )
