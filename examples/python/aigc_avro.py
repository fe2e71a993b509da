"""Avro single-object encoding of the aigc events, with python3-avro alone: no schema registry, no project code.

Every value on an aigc topic is 0xC3 0x01, the 8-byte little-endian CRC-64-AVRO fingerprint of the writer schema's
Parsing Canonical Form, then the Avro binary body. python3-avro has no single-object encoder, so the header is
made here; the canonical form is made here too, because python3-avro's differs from Java's for the released
schemas (it keeps {"type": "string", "avro.java.string": "String"} as an object where the specification and Java
write "string"), which would change the fingerprint.

Records are written with the current schemas in schemas/avro/ and read with any released version in
schemas/released/: the fingerprint in the header names the writer schema, which is resolved into the current one.
"""
from __future__ import annotations

import copy
import io
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import avro.io
import avro.schema

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
MAGIC = b"\xc3\x01"
PRIMITIVES = {"null", "boolean", "int", "long", "float", "double", "bytes", "string"}
NAMED = {"record", "error", "enum", "fixed"}
_EMPTY = 0xC15D213AA4D7A795


class UnknownSchema(ValueError):
    """A header names a writer schema that is not a released version of any aigc event."""


def _crc64_table() -> list[int]:
    table = []
    for i in range(256):
        fp = i
        for _ in range(8):
            fp = (fp >> 1) ^ (_EMPTY & -(fp & 1))
        table.append(fp)
    return table


_TABLE = _crc64_table()


def fingerprint(canonical: str) -> int:
    """CRC-64-AVRO, as in the Avro specification, of a schema's canonical form."""
    fp = _EMPTY
    for b in canonical.encode("utf-8"):
        fp = (fp >> 8) ^ _TABLE[(fp ^ b) & 0xFF]
    return fp


def _fullname(name: str, namespace: str | None) -> str:
    return name if "." in name or not namespace else f"{namespace}.{name}"


def canonical_form(schema: Any) -> str:
    """The Parsing Canonical Form of a schema given as parsed JSON (the specification's rules, as Java applies them)."""
    seen: set[str] = set()

    def form(s: Any, namespace: str | None) -> str:
        if isinstance(s, str):
            return json.dumps(s if s in PRIMITIVES else _fullname(s, namespace))
        if isinstance(s, list):
            return "[" + ",".join(form(branch, namespace) for branch in s) + "]"
        kind = s["type"]
        if not isinstance(kind, str) or (kind not in NAMED and kind not in ("array", "map")):
            return form(kind, namespace)  # {"type": "string", "logicalType": ...} or {"type": {...}}: attributes dropped
        if kind == "array":
            return '{"type":"array","items":' + form(s["items"], namespace) + "}"
        if kind == "map":
            return '{"type":"map","values":' + form(s["values"], namespace) + "}"
        name = _fullname(s["name"], s.get("namespace", namespace))
        if name in seen:
            return json.dumps(name)
        seen.add(name)
        head = '{"name":' + json.dumps(name) + ',"type":' + json.dumps("record" if kind == "error" else kind)
        if kind == "enum":
            return head + ',"symbols":' + json.dumps(s["symbols"], separators=(",", ":")) + "}"
        if kind == "fixed":
            return head + ',"size":' + str(int(s["size"])) + "}"
        inner = name.rpartition(".")[0] or None
        fields = ",".join('{"name":' + json.dumps(f["name"]) + ',"type":' + form(f["type"], inner) + "}"
                          for f in s["fields"])
        return head + ',"fields":[' + fields + "]}"

    return form(schema, None)


@lru_cache(maxsize=None)
def _definitions() -> dict[str, dict]:
    """Every named type defined in schemas/avro/*.avsc, by full name, its namespace made explicit."""
    found: dict[str, dict] = {}

    def collect(s: Any, namespace: str | None) -> None:
        if isinstance(s, list):
            for branch in s:
                collect(branch, namespace)
        elif isinstance(s, dict):
            kind = s.get("type")
            if kind in NAMED:
                name = _fullname(s["name"], s.get("namespace", namespace))
                namespace = name.rpartition(".")[0] or None
                found[name] = {**s, "name": name.rpartition(".")[2], "namespace": namespace or ""}
                for f in s.get("fields", []):
                    collect(f["type"], namespace)
            else:
                for key in ("type", "items", "values"):
                    if key in s:
                        collect(s[key], namespace)

    for path in sorted((SCHEMAS / "avro").glob("*.avsc")):
        collect(json.loads(path.read_text()), None)
    return found


def _expand(s: Any, namespace: str | None, defined: set[str]) -> Any:
    """The schema with each named type defined in another file inlined where first used, as Java's parser does."""
    if isinstance(s, str):
        if s in PRIMITIVES:
            return s
        name = _fullname(s, namespace)
        if name in defined:
            return name
        if name not in _definitions():
            raise avro.schema.SchemaParseException(f"{name} is defined in no file of {SCHEMAS / 'avro'}")
        return _expand(copy.deepcopy(_definitions()[name]), namespace, defined)
    if isinstance(s, list):
        return [_expand(branch, namespace, defined) for branch in s]
    s = dict(s)
    if s.get("type") in NAMED:
        name = _fullname(s["name"], s.get("namespace", namespace))
        defined.add(name)
        namespace = name.rpartition(".")[0] or None
        if "fields" in s:
            s["fields"] = [{**f, "type": _expand(f["type"], namespace, defined)} for f in s["fields"]]
        return s
    for key in ("type", "items", "values"):
        if key in s and not (key == "type" and isinstance(s[key], str) and s[key] in PRIMITIVES | {"array", "map"}):
            s[key] = _expand(s[key], namespace, defined)
    return s


@lru_cache(maxsize=None)
def schema_json(type_name: str) -> dict:
    """The current schema of an event (schemas/avro/<type_name>.avsc), self-contained."""
    return _expand(json.loads((SCHEMAS / "avro" / f"{type_name}.avsc").read_text()), None, set())


@lru_cache(maxsize=None)
def schema(type_name: str) -> avro.schema.Schema:
    return avro.schema.parse(json.dumps(schema_json(type_name)))


def schema_fingerprint(type_name: str) -> int:
    return fingerprint(canonical_form(schema_json(type_name)))


@lru_cache(maxsize=None)
def released() -> dict[int, tuple[str, int, avro.schema.Schema]]:
    """Every released writer schema, by fingerprint: (type name, version, schema)."""
    found = {}
    for path in sorted((SCHEMAS / "released").glob("*/v*.avsc")):
        text = path.read_text()
        found[fingerprint(canonical_form(json.loads(text)))] = (path.parent.name, int(path.stem[1:]),
                                                                avro.schema.parse(text))
    return found


def with_defaults(s: avro.schema.Schema, datum: Any) -> Any:
    """The datum with every absent record field set to its schema default, so callers write only what they mean."""
    if isinstance(s, avro.schema.RecordSchema) and isinstance(datum, dict):
        filled = {}
        for field in s.fields:
            if field.name in datum:
                filled[field.name] = with_defaults(field.type, datum[field.name])
            elif field.has_default:
                filled[field.name] = with_defaults(field.type, copy.deepcopy(field.default))
        return {**datum, **filled}
    if isinstance(s, avro.schema.ArraySchema) and isinstance(datum, list):
        return [with_defaults(s.items, item) for item in datum]
    if isinstance(s, avro.schema.MapSchema) and isinstance(datum, dict):
        return {key: with_defaults(s.values, value) for key, value in datum.items()}
    if isinstance(s, avro.schema.UnionSchema) and datum is not None:
        # A record, array or map in a union with null: the datum is that branch.
        branches = [b for b in s.schemas if b.type != "null"]
        if len(branches) == 1:
            return with_defaults(branches[0], datum)
    return datum


def encode(type_name: str, record: dict) -> bytes:
    """Single-object bytes of a record of the current schema; absent fields take their defaults."""
    writer = schema(type_name)
    body = io.BytesIO()
    avro.io.DatumWriter(writer).write(with_defaults(writer, record), avro.io.BinaryEncoder(body))
    return MAGIC + schema_fingerprint(type_name).to_bytes(8, "little") + body.getvalue()


def decode(value: bytes) -> tuple[str, dict]:
    """The event type and the record of single-object bytes written with any released schema, in the current one."""
    if len(value) < 10 or value[:2] != MAGIC:
        raise ValueError("not Avro single-object encoding (expected the header 0xC3 0x01)")
    fp = int.from_bytes(value[2:10], "little")
    if fp not in released():
        raise UnknownSchema(f"writer schema fingerprint {fp:016x} is not a released aigc schema")
    type_name, _, writer = released()[fp]
    reader = avro.io.DatumReader(writer, schema(type_name))
    return type_name, reader.read(avro.io.BinaryDecoder(io.BytesIO(value[10:])))


def to_json(record: Any) -> str:
    """One line of JSON (bytes as hex, as DeadLetter values are)."""
    return json.dumps(record, ensure_ascii=False, default=lambda b: b.hex() if isinstance(b, bytes) else str(b))


if __name__ == "__main__":
    # The fingerprint of every released schema, as a test compares them with Java's.
    for fp, (name, version, _) in sorted(released().items(), key=lambda item: item[1][:2]):
        print(f"{name} v{version} {fp:016x}")
