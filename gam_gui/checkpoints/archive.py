"""The one view of a checkpoint's zip archive that both the pickle scanner and torch get."""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from typing import Any

from gam_gui.checkpoints.errors import CheckpointError, first_line, short_repr
from gam_gui.checkpoints.limits import MAX_BYTES

#: Small records of torch's archive layout copied into the clean archive (all optional but the version).
_META_RECORDS = (".format_version", ".storage_alignment", "byteorder", ".data/version", "version")
STORAGE_KEY_RE = re.compile(r"[A-Za-z0-9_]{1,64}")
_ASCII_FOLD = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", b"abcdefghijklmnopqrstuvwxyz")


def _fold(raw: bytes) -> bytes:
    """A record name as torch's zip reader (miniz, flags 0) compares it: ASCII letters case-folded."""
    return raw.translate(_ASCII_FOLD)


def _raw_name(info: zipfile.ZipInfo) -> bytes:
    """The name bytes as stored in the directory (what miniz compares), from zipfile's decoded name."""
    try:
        return info.orig_filename.encode("utf-8" if info.flag_bits & 0x800 else "cp437")
    except UnicodeEncodeError:
        return info.orig_filename.encode("utf-8", "surrogateescape")


class Archive:
    """The one view of a checkpoint archive that both the scanner and torch get.

    Built as torch's reader sees the file: the records live under the folder of the first entry, and
    a record is found by a case-insensitive name match. Any name that two records share under that
    match, a second ``data.pkl`` anywhere (a decoy), or data before the first entry is refused,
    because then two readers could disagree on which bytes are the pickle.
    """

    def __init__(self, data: bytes, source: str) -> None:
        self.data = data
        self.zf = zipfile.ZipFile(io.BytesIO(data))
        infos = self.zf.infolist()
        if not infos:
            raise CheckpointError(f"{source}: not a PyTorch checkpoint (an empty zip archive)", reason="format")
        claimed = sum(i.file_size for i in infos)
        if claimed > MAX_BYTES or claimed > 4 * len(data) + (1 << 20):
            raise CheckpointError(
                f"{source}: its entries claim {claimed / 1e6:.0f} MB in a {len(data) / 1e6:.1f} MB file "
                "(a zip bomb or a corrupt archive); refusing to unpack it", reason="zip-bomb")
        if infos[0].header_offset != 0 or _zip_prefix_length(data) != 0:
            raise CheckpointError(f"{source}: refused: the zip directory does not start at the file's first "
                                  "entry (data in front of the archive). Nothing from it was executed.",
                                  reason="archive")
        names = [_raw_name(i) for i in infos]
        if any(n.endswith(b"/constants.pkl") or b"/code/" in n for n in names):
            raise CheckpointError(
                f"{source}: a TorchScript archive (a compiled model that carries code); gam-gui reads "
                "checkpoints saved by YOLOv5/YOLOv7 train.py or by gam-gui itself", reason="torchscript")
        if b"/" not in names[0]:
            raise CheckpointError(f"{source}: not a PyTorch checkpoint (its first record is not in a folder)",
                                  reason="format")
        self.prefix = _fold(names[0].split(b"/", 1)[0]) + b"/"
        by_name: dict[bytes, zipfile.ZipInfo] = {}
        for raw, info in zip(names, infos, strict=True):
            key = _fold(raw)
            if key in by_name:
                raise CheckpointError(f"{source}: refused: two records are named {short_repr(info.filename, 80)} "
                                      "for torch's reader (names differ only in case, or repeat). Nothing from it "
                                      "was executed.", reason="ambiguous-archive")
            by_name[key] = info
        pkls = [k for k in by_name if k.rsplit(b"/", 1)[-1] == b"data.pkl"]
        if pkls != [self.prefix + b"data.pkl"]:
            if not pkls:
                raise CheckpointError(f"{source}: not a PyTorch checkpoint (a zip archive without data.pkl)",
                                      reason="format")
            raise CheckpointError(f"{source}: refused: the archive holds {len(pkls)} data.pkl records or one outside "
                                  "its folder, so readers could disagree on which is the model. Nothing from it "
                                  "was executed.", reason="ambiguous-archive")
        self.by_name = by_name
        self.pickle = self.zf.read(by_name[self.prefix + b"data.pkl"])
        self.storage_sizes = {k[len(self.prefix) + 5:].decode("ascii", "replace"): i.file_size
                              for k, i in by_name.items() if k.startswith(self.prefix + b"data/")}

    def rebuild(self, keys: list[str], source: str) -> io.BytesIO:
        """A fresh archive with the scanned pickle, the storages it names and torch's small records."""
        records: list[tuple[str, Any, int]] = [("archive/data.pkl", self.pickle, zlib.crc32(self.pickle))]
        for name in _META_RECORDS:
            info = self.by_name.get(self.prefix + name.encode())
            if info is not None and info.file_size <= 64:
                records.append((f"archive/{name}", self.payload(info), info.CRC))
        for key in keys:
            info = self.by_name.get(self.prefix + b"data/" + key.encode().translate(_ASCII_FOLD))
            if info is None:
                raise CheckpointError(f"{source}: the file is truncated or corrupt (storage {key!r} is missing)",
                                      reason="corrupt")
            records.append((f"archive/data/{key}", self.payload(info), info.CRC))
        return _write_stored_zip(records)

    def payload(self, info: zipfile.ZipInfo) -> Any:
        """An entry's bytes, CRC-checked: a stored entry is a view of the file (no copy), others are
        inflated by zipfile."""
        if info.compress_type != zipfile.ZIP_STORED:
            return self.zf.read(info)
        off = info.header_offset
        head = self.data[off:off + 30]
        if len(head) != 30 or head[:4] != b"PK\x03\x04":
            raise zipfile.BadZipFile(f"bad local header for {info.filename!r}")
        name_len, extra_len = struct.unpack("<HH", head[26:30])
        start = off + 30 + name_len + extra_len
        view = memoryview(self.data)[start:start + info.file_size]
        if len(view) != info.file_size or info.compress_size != info.file_size or zlib.crc32(view) != info.CRC:
            raise zipfile.BadZipFile(f"Bad CRC-32 for file {info.filename!r}")
        return view


def _write_stored_zip(records: list[tuple[str, Any, int]]) -> io.BytesIO:
    """A zip of uncompressed ``(name, bytes, crc)`` records, laid out as torch writes its archives."""
    if len(records) > 0xFFFF:
        raise CheckpointError("too many records for one archive", reason="format")
    out = io.BytesIO()
    central = bytearray()
    for name, payload, crc in records:
        raw = name.encode("ascii")
        size, offset = len(payload), out.tell()
        if size > 0xFFFFFFFF or offset > 0xFFFFFFFF:
            raise CheckpointError("an archive record is too large", reason="format")
        out.write(struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 0, 0, 0, crc, size, size, len(raw), 0) + raw)
        out.write(payload)
        central += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 0, 0, 0, crc, size, size, len(raw),
                               0, 0, 0, 0, 0, offset) + raw
    start = out.tell()
    out.write(central)
    out.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(records), len(records), len(central), start, 0))
    out.seek(0)
    return out


def _zip_prefix_length(data: bytes) -> int:
    """How many bytes come before the archive by its end record (zipfile allows and skips them;
    torch's reader does not)."""
    try:
        end = zipfile._EndRecData(io.BytesIO(data))  # type: ignore[attr-defined]
        if end is None:
            return 0
        concat = end[zipfile._ECD_LOCATION] - end[zipfile._ECD_SIZE] - end[zipfile._ECD_OFFSET]  # type: ignore
        if end[zipfile._ECD_SIGNATURE] == zipfile.stringEndArchive64:  # type: ignore[attr-defined]
            concat -= zipfile.sizeEndCentDir64 + zipfile.sizeEndCentDir64Locator  # type: ignore[attr-defined]
        return int(concat)
    except (AttributeError, IndexError, TypeError, OSError, struct.error):  # pragma: no cover - private API moved
        return 0


def read_archive(data: bytes, source: str) -> Archive:
    try:
        return Archive(data, source)
    except CheckpointError:
        raise
    except MemoryError as e:
        raise CheckpointError(f"{source}: not enough memory to read this file", reason="memory") from e
    except Exception as e:  # noqa: BLE001 - BadZipFile, zlib.error, NotImplementedError (method), EOFError ...
        raise CheckpointError(f"{source}: the file is truncated or corrupt ({first_line(e)})", reason="corrupt") \
            from e
