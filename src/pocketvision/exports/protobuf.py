"""The protobuf wire format, read by hand: a few fields of a Core ML spec or an ONNX
model without coremltools (which imports torch) or onnx (0.2-0.5 s to import, most
of ``inspect``). The wire format is stable; what each field number means is each
format's schema, named where it is used."""

from __future__ import annotations


def fields(message: bytes, number: int) -> list:
    """Values of field ``number`` in a protobuf message: ints for varints, bytes
    for length-delimited fields."""
    found, position = [], 0
    while position < len(message):
        key, position = varint(message, position)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, position = varint(message, position)
        elif wire == 2:
            length, position = varint(message, position)
            if position + length > len(message):
                raise ValueError(f"protobuf field {field} runs past the end of its message")
            value, position = message[position:position + length], position + length
        elif wire in (1, 5):  # fixed 64 / 32 bits
            size = 8 if wire == 1 else 4
            value, position = message[position:position + size], position + size
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        if field == number:
            found.append(value)
    return found


def varint(data: bytes, position: int) -> tuple[int, int]:
    """A protobuf varint: at most 10 bytes (64 bits), so a run of 0xFF is refused at
    once instead of growing one number for ever."""
    value = 0
    for shift in range(0, 70, 7):
        byte = data[position]
        value |= (byte & 0x7F) << shift
        position += 1
        if byte < 0x80:
            return value, position
    raise ValueError("a varint longer than 10 bytes")


def message(data: bytes, number: int) -> bytes:
    """The first value of field ``number``, which must be there."""
    values = fields(data, number)
    if not values:
        raise ValueError(f"protobuf field {number} missing")
    return values[0]


def string_map(entries: list[bytes]) -> dict[str, str]:
    """A map<string, string> (or a list of key=1 / value=2 entries) as a dict."""
    return {message(e, 1).decode(): (fields(e, 2) or [b""])[0].decode() for e in entries}
