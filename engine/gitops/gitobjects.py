"""git's object formats and naming rules, computed in Python: no git process per object.

Blob, tree and commit ids are the SHA-1 of ``<type> <size>\\0<content>``; a pack is those
objects zlib-compressed behind a small header, its index their sorted ids and offsets.
Publishing a thousand branches builds every tree here and hands git one pack with its index,
instead of a handful of git processes per branch.

The naming rules mirror git's own (``refs.c: check_refname_format`` with the extra rules of
``git check-ref-format --branch``; ``read-cache.c: verify_path`` with ``core.protectNTFS`` and
``core.protectHFS`` on), so a name git would refuse or silently drop is refused up front.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import struct
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
TREE_MODE = b"40000"
FILE_MODE = b"100644"

_TYPE_CODES = {"commit": 1, "tree": 2, "blob": 3}
# Objects this small are stored in a pack, not deflated (see _pack_entry).
_STORED_BELOW = 100
# refs.c: refname_disposition -- bytes a ref name component may not contain.
_REF_FORBIDDEN = re.compile(r"[\x00-\x20~^:?*\[\\\x7f]")
# path.c: next_hfs_char -- code points HFS+ ignores when comparing names.
_HFS_IGNORED = dict.fromkeys(
    [*range(0x200C, 0x2010), *range(0x202A, 0x202F), *range(0x206A, 0x2070), 0xFEFF]
)


def object_id(kind: str, content: bytes) -> str:
    """The id git gives an object of ``kind`` ("blob", "tree", "commit") holding ``content``."""
    header = f"{kind} {len(content)}\0".encode()
    return hashlib.sha1(header + content, usedforsecurity=False).hexdigest()


# --- names ------------------------------------------------------------------------------------


def branch_name_problem(name: str) -> str | None:
    """Why git would refuse ``name`` as a branch (``git check-ref-format --branch``), or None.

    Also refused: ``@`` (``git branch`` reads it as HEAD) and names starting with ``refs/``
    (they would make ``refs/heads/refs/...``, which is never what was meant).
    """
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid UTF-8"
    if name.startswith("-"):
        return "starts with '-'"
    if name in ("HEAD", "@"):
        return "is reserved by git"
    if name.startswith("refs/"):
        return "starts with 'refs/'"
    full = f"refs/heads/{name}"
    if full.endswith("."):
        return "ends with '.'"
    for component in full.split("/"):
        problem = _ref_component_problem(component)
        if problem:
            return problem
    return None


def _ref_component_problem(component: str) -> str | None:
    """refs.c: check_refname_component (without the refspec-pattern '*' allowance)."""
    if not component:
        return "has an empty component"
    if component.startswith("."):
        return "has a component starting with '.'"
    if component.endswith(".lock"):
        return "has a component ending with '.lock'"
    if ".." in component:
        return "contains '..'"
    if "@{" in component:
        return "contains '@{'"
    bad = _REF_FORBIDDEN.search(component)
    if bad is not None:
        return f"contains {bad.group()!r}"
    return None


def path_component_problem(component: str) -> str | None:
    """Why git would refuse (or silently drop) a tree entry named ``component``, or None.

    read-cache.c: verify_path with core.protectNTFS (git's default everywhere) and
    core.protectHFS: ``.git`` in any case, and the names NTFS and HFS+ treat as ``.git``
    (``.git.``, ``.git `` , ``git~1``, ``.git::$INDEX_ALLOCATION``, ``.g\\u200cit``).
    """
    if component in ("", ".", ".."):
        return "is not a file name"
    if "\0" in component or "\n" in component:
        return "contains a NUL or newline"
    if _is_ntfs_dotgit(component) or _is_hfs_dotgit(component):
        return "is a name git reserves (.git)"
    return None


def _is_ntfs_dotgit(name: str) -> bool:
    """path.c: is_ntfs_dotgit -- ``.git`` or ``git~1``, then only dots and spaces (or ':')."""
    lowered = name.lower()
    if lowered.startswith(".git"):
        rest = name[4:]
    elif lowered.startswith("git~1"):
        rest = name[5:]
    else:
        return False
    for ch in rest:
        if ch == ":":
            return True
        if ch not in ". ":
            return False
    return True


def _is_hfs_dotgit(name: str) -> bool:
    """path.c: is_hfs_dotgit -- ``.git`` once HFS+'s ignored code points are removed."""
    # Every ignored code point is outside ASCII: an ASCII name has none to remove.
    kept = name if name.isascii() else "".join(c for c in name if ord(c) not in _HFS_IGNORED)
    return len(kept) == 4 and kept[0] == "." and kept[1:].lower() == "git"


# --- trees ------------------------------------------------------------------------------------


def parse_tree(content: bytes) -> dict[bytes, tuple[bytes, str]]:
    """A tree object's entries: name -> (mode, object id)."""
    entries: dict[bytes, tuple[bytes, str]] = {}
    pos = 0
    while pos < len(content):
        space = content.index(b" ", pos)
        nul = content.index(b"\0", space)
        mode, name = content[pos:space], content[space + 1 : nul]
        entries[name] = (mode, content[nul + 1 : nul + 21].hex())
        pos = nul + 21
    return entries


def encode_tree(entries: Mapping[bytes, tuple[bytes, str]]) -> bytes:
    """A tree object's content, entries in git's order (a tree sorts as if named ``name/``)."""

    def key(item: tuple[bytes, tuple[bytes, str]]) -> bytes:
        name, (mode, _) = item
        return name + b"/" if mode == TREE_MODE else name

    return b"".join(
        mode + b" " + name + b"\0" + bytes.fromhex(oid)
        for name, (mode, oid) in sorted(entries.items(), key=key)
    )


def is_tree_mode(mode: bytes) -> bool:
    """Tree entries are ``40000`` (some old tools wrote ``040000``)."""
    return mode.lstrip(b"0") == TREE_MODE


@dataclass
class Directory:
    """A tree being edited: the entries of a base tree, with edited subdirectories loaded.

    ``entries`` holds files and untouched subdirectories as (mode, id); ``subdirs`` the
    subdirectories loaded for editing, which win over ``entries``.
    """

    entries: dict[bytes, tuple[bytes, str]] = field(default_factory=dict)
    subdirs: dict[bytes, Directory] = field(default_factory=dict)

    def child(self, name: bytes, load: Mapping[str, bytes], *, fresh: bool = False) -> Directory:
        """The subdirectory ``name``, created (replacing a file of that name) when missing.

        ``load`` holds the content of base trees by id; a base subdirectory must be in it
        unless ``fresh`` (its content is about to be replaced: it is not read).
        """
        found = self.subdirs.get(name)
        if found is not None:
            return found
        entry = self.entries.pop(name, None)
        directory = Directory()
        if entry is not None and is_tree_mode(entry[0]) and not fresh:
            directory.entries = parse_tree(load[entry[1]])
        self.subdirs[name] = directory
        return directory

    def put_file(self, name: bytes, oid: str) -> None:
        """Store a regular file ``name`` (replacing a file or directory of that name)."""
        self.subdirs.pop(name, None)
        self.entries[name] = (FILE_MODE, oid)

    def clear(self) -> None:
        self.entries.clear()
        self.subdirs.clear()

    def write(self, objects: dict[str, tuple[str, bytes]]) -> str | None:
        """The id of this tree (None when it is empty), adding every new tree to ``objects``."""
        entries = dict(self.entries)
        for name, sub in self.subdirs.items():
            oid = sub.write(objects)
            if oid is not None:
                entries[name] = (TREE_MODE, oid)
        if not entries:
            return None
        content = encode_tree(entries)
        oid = object_id("tree", content)
        objects.setdefault(oid, ("tree", content))
        return oid

    def count_files(self, prefix: Iterable[bytes]) -> int:
        """Number of non-tree entries at or below the directory ``prefix`` (loaded parts only)."""
        node: Directory | None = self
        for part in prefix:
            node = node.subdirs.get(part) if node is not None else None
        return node._count() if node is not None else 0

    def _count(self) -> int:
        return sum(1 for m, _ in self.entries.values() if not is_tree_mode(m)) + sum(
            sub._count() for sub in self.subdirs.values()
        )


# --- commits and packs ------------------------------------------------------------------------


def encode_commit(
    tree: str, parent: str | None, author: str, committer: str, message: str
) -> bytes:
    """A commit object's content, as ``git commit-tree`` writes it."""
    lines = [f"tree {tree}"]
    if parent is not None:
        lines.append(f"parent {parent}")
    lines += [f"author {author}", f"committer {committer}"]
    return ("\n".join(lines) + "\n\n" + message).encode("utf-8", "surrogateescape")


def encode_indexed_pack(objects: Mapping[str, tuple[str, bytes]]) -> tuple[bytes, bytes]:
    """A pack of ``objects`` (id -> (kind, content), whole objects) and its version-2 index,
    byte for byte what ``git index-pack`` would write for that pack: git reads objects from
    the pair without spending a process inflating and hashing every object again."""
    chunks: list[bytes] = [b"PACK", struct.pack(">II", 2, len(objects))]
    located: list[tuple[bytes, int, int]] = []  # (raw id, crc32 of the entry, offset)
    offset = 12
    for oid, (kind, content) in objects.items():
        entry = _pack_entry(kind, content)
        located.append((bytes.fromhex(oid), zlib.crc32(entry), offset))
        chunks.append(entry)
        offset += len(entry)
    body = b"".join(chunks)
    checksum = hashlib.sha1(body, usedforsecurity=False).digest()
    return body + checksum, _pack_index(located, checksum)


def _pack_entry(kind: str, content: bytes) -> bytes:
    """One object in a pack: type and size in a varint header, then the zlib stream.

    Level 1: ``git push`` sends this compressed data as it is, and on rendered manifests
    git's default level 6 saves ~3% of the bytes for ~30% more CPU.  Objects under
    :data:`_STORED_BELOW` bytes (a tree of a few entries: names and binary ids) are stored:
    deflate would save a few bytes for four times the CPU (its set-up dominates)."""
    size = len(content)
    byte = (_TYPE_CODES[kind] << 4) | (size & 0x0F)
    size >>= 4
    header = bytearray()
    while size:
        header.append(byte | 0x80)
        byte, size = size & 0x7F, size >> 7
    header.append(byte)
    level = 0 if len(content) < _STORED_BELOW else 1
    return bytes(header) + zlib.compress(content, level)


def _pack_index(located: list[tuple[bytes, int, int]], pack_checksum: bytes) -> bytes:
    """The ``.idx`` (version 2) of a pack: ids sorted with a first-byte fan-out, then each
    id's CRC-32 and offset (offsets past 2 GiB in a table of 64-bit ones)."""
    located.sort()
    per_first_byte = [0] * 256
    for raw, _, _ in located:
        per_first_byte[raw[0]] += 1
    fanout = list(itertools.accumulate(per_first_byte))  # ids whose first byte is <= each
    small: list[int] = []
    large: list[int] = []
    for _, _, offset in located:
        if offset < 0x80000000:
            small.append(offset)
        else:
            small.append(0x80000000 | len(large))
            large.append(offset)
    count = len(located)
    parts = [
        b"\377tOc",
        struct.pack(">I", 2),
        struct.pack(">256I", *fanout),
        b"".join(raw for raw, _, _ in located),
        struct.pack(f">{count}I", *(crc for _, crc, _ in located)),
        struct.pack(f">{count}I", *small),
        struct.pack(f">{len(large)}Q", *large),
        pack_checksum,
    ]
    body = b"".join(parts)
    return body + hashlib.sha1(body, usedforsecurity=False).digest()
