"""Reading the directory of an OLE compound file ([MS-CFB]): legacy .doc and .wps files,
and encrypted or password-protected .docx files, which Office wraps in one (with the
streams EncryptionInfo and EncryptedPackage, ECMA-376 part 4 / [MS-OFFCRYPTO])."""

from __future__ import annotations

import struct

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_LAST_SECTOR = 0xFFFFFFFA  # sector numbers from here on are markers (end of chain, free...)


def ole_stream_names(data: bytes) -> set[str]:
    """Names in an OLE compound file's directory (storages and streams).

    Follows the FAT chain of the directory as [MS-CFB] lays it out. On a damaged file it
    falls back to looking for the encryption stream names anywhere in the bytes, in any case
    ([MS-CFB] compares names without regard to case, and some tools write them upper case)."""
    try:
        return _ole_directory(data)
    except (struct.error, ValueError, IndexError):
        found = set()
        lowered = data.lower()  # ASCII letters only: UTF-16LE names of ASCII characters stay aligned
        for name in ("EncryptionInfo", "EncryptedPackage"):
            if name.lower().encode("utf-16-le") in lowered:
                found.add(name)
        return found


def _ole_directory(data: bytes) -> set[str]:
    shift = struct.unpack_from("<H", data, 0x1E)[0]
    if shift not in (9, 12):
        raise ValueError("sector size")
    size = 1 << shift
    count = max(0, (len(data) - size) // size)

    def sector(number: int) -> bytes:
        if number >= count:
            raise ValueError("sector out of range")
        return data[(number + 1) * size:(number + 2) * size]

    # The FAT is made of the sectors named in the header's 109 slots, then in the DIFAT
    # chain's. A hostile file names one sector over and over, or sectors past its end: each
    # sector is read once, and only as many slots as it takes to cover the file are read
    # (slots past those describe sectors the file does not have), so at most `count` sectors.
    per_sector = size // 4
    needed = -(-count // per_sector)  # FAT sectors covering every sector of the file
    slots = list(struct.unpack_from("<109I", data, 0x4C))[:needed]
    difat, seen = struct.unpack_from("<I", data, 0x44)[0], set()
    while len(slots) < needed and difat < _LAST_SECTOR and difat not in seen:
        seen.add(difat)
        entries = struct.unpack(f"<{per_sector}I", sector(difat))
        slots.extend(entries[:min(per_sector - 1, needed - len(slots))])
        difat = entries[-1]
    fat: list[int] = []
    for number in dict.fromkeys(slots):  # each FAT sector once, in order
        if number < count:
            fat.extend(struct.unpack(f"<{per_sector}I", sector(number)))
    names, current, seen = set(), struct.unpack_from("<I", data, 0x30)[0], set()
    while current < _LAST_SECTOR and current not in seen:  # at most `count` sectors
        seen.add(current)
        block = sector(current)
        for start in range(0, len(block) - 127, 128):
            length, kind = struct.unpack_from("<HB", block, start + 0x40)
            if kind in (1, 2, 5) and 2 <= length <= 64:
                names.add(block[start:start + length - 2].decode("utf-16-le", "replace"))
        current = fat[current] if current < len(fat) else 0xFFFFFFFE
    return names
