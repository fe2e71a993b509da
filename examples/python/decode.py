#!/usr/bin/env python3
"""Decodes aigc records from raw bytes on stdin and prints each as one line of JSON.

Input is either one record's bytes (a file, e.g. from produce.py --output), or records framed as kcat prints them
with -f '%S\\n%s' (each value's length in bytes on a line of its own, then the value):

    kcat -C -b 127.0.0.1:9092 -t generation.stream -o beginning -e -f '%S\\n%s' | python3 examples/python/decode.py
    python3 examples/python/decode.py < request.avro

Any record of any released schema is read, whatever its topic.
"""
from __future__ import annotations

import argparse
import signal
import sys
from typing import BinaryIO, Iterator

import aigc_avro


def framed(stream: BinaryIO) -> Iterator[bytes]:
    """The values of kcat's -f '%S\\n%s' output: a length line, then that many bytes (-1 for a null value)."""
    while line := stream.readline():
        if not line.strip():
            continue
        length = int(line)
        if length < 0:
            continue
        value = stream.read(length)
        if len(value) < length:
            raise EOFError(f"a value of {length} bytes ends after {len(value)}")
        yield value


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--id", help="print only records of this request id")
    args = p.parse_args()

    stdin = sys.stdin.buffer
    values = [stdin.read()] if stdin.peek(2)[:2] == aigc_avro.MAGIC else framed(stdin)
    for value in values:
        _, record = aigc_avro.decode(value)
        if args.id is None or record.get("request_id") == args.id:
            print(aigc_avro.to_json(record), flush=True)
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # piped into head or less: end quietly, as other tools do
    sys.exit(main())
