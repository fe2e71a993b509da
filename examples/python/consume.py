#!/usr/bin/env python3
"""Follows one job: prints its text as it is generated (the stream topic), then its completion.

    python3 examples/python/consume.py REQUEST_ID

Choice 0's text is printed as it grows; the other choices' texts follow when they end, one per line as
"[choice N] text"; the last line is the completion, as one line of JSON. Exit status: 0 when the completion is OK,
1 when it is an error, 2 when none came within --timeout. With --json every stream event (repeats dropped) is
printed as one line of JSON instead of the text.

Both topics are read from --since seconds ago, on every partition; completions with isolation.level
read_committed, since the postprocessor writes them in transactions. After a worker crash a job's stream events
repeat from sequence 0: the sequences already seen are dropped.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import time
import uuid
from dataclasses import dataclass, field

from confluent_kafka import Consumer, KafkaException, TopicPartition

import aigc_avro

GRACE_SECONDS = 5.0  # how long to wait for the stream's end once the completion is in


@dataclass
class ChoiceText:
    pieces: list[str] = field(default_factory=list)
    next_sequence: int = 0
    finish_reason: str | None = None

    @property
    def text(self) -> str:
        return "".join(self.pieces)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("request_id")
    p.add_argument("--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
                   help="the brokers (default: $KAFKA_BOOTSTRAP_SERVERS or 127.0.0.1:9092)")
    p.add_argument("--stream-topic", default=os.environ.get("AIGC_TOPIC_STREAM", "generation.stream"))
    p.add_argument("--completions-topic", default=os.environ.get("AIGC_TOPIC_COMPLETIONS", "generation.completions"))
    p.add_argument("--since", type=float, default=3600, help="read records from this many seconds ago (3600)")
    p.add_argument("--timeout", type=float, default=120, help="give up after this many seconds (120)")
    p.add_argument("--json", action="store_true", help="print stream events as JSON lines instead of text")
    return p.parse_args()


def assign_since(consumer: Consumer, topics: list[str], since_ms: int) -> None:
    """Every partition of the topics, from the first record at or after since_ms."""
    wanted = []
    for topic in topics:
        metadata = consumer.list_topics(topic, timeout=10).topics[topic]
        if metadata.error is not None:
            raise KafkaException(metadata.error)
        for partition in metadata.partitions:
            # The end as it is now, for a partition with nothing that recent: later records land past it.
            _, end = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)
            wanted.append((TopicPartition(topic, partition, since_ms), end))
    found = consumer.offsets_for_times([tp for tp, _ in wanted], timeout=10)
    consumer.assign([TopicPartition(tp.topic, tp.partition, tp.offset if tp.offset >= 0 else end)
                     for tp, (_, end) in zip(found, wanted)])


def main() -> int:
    args = parse_args()
    consumer = Consumer({"bootstrap.servers": args.bootstrap, "group.id": f"aigc-consume-{uuid.uuid4()}",
                         "enable.auto.commit": False, "isolation.level": "read_committed"})
    try:
        assign_since(consumer, [args.stream_topic, args.completions_topic], int((time.time() - args.since) * 1000))
        choices, completion = follow(consumer, args)
    finally:
        consumer.close()

    if completion is None:
        print(f"\nno completion for {args.request_id} within {args.timeout:g}s", file=sys.stderr)
        return 2
    if not args.json:
        for index in sorted(i for i in choices if i > 0):
            print(f"\n[choice {index}] {choices[index].text}", end="")
        print()
    for choice in completion["choices"]:
        streamed = choices.get(choice["index"])
        if streamed is not None and streamed.finish_reason is not None and streamed.text != choice["text"]:
            print(f"choice {choice['index']}: the stream's text differs from the completion's", file=sys.stderr)
    print(aigc_avro.to_json(completion), flush=True)
    return 0 if completion["status"] == "OK" else 1


def follow(consumer: Consumer, args: argparse.Namespace) -> tuple[dict[int, ChoiceText], dict | None]:
    """Reads both topics until the completion is in and every choice's stream has ended (or a grace period)."""
    key = args.request_id.encode()
    choices: dict[int, ChoiceText] = {}
    completion, stream_failed, completion_at = None, False, 0.0
    give_up = time.monotonic() + args.timeout
    while time.monotonic() < give_up:
        if completion is not None and (
                stream_failed or completion["status"] != "OK" or time.monotonic() > completion_at + GRACE_SECONDS
                or all(c["index"] in choices and choices[c["index"]].finish_reason for c in completion["choices"])):
            break
        msg = consumer.poll(0.5)
        if msg is None:
            continue
        if msg.error():
            if msg.error().fatal():
                raise KafkaException(msg.error())
            print(f"\n{msg.error()}", file=sys.stderr)
            continue
        if msg.key() != key:
            continue
        try:
            _, record = aigc_avro.decode(msg.value())
        except ValueError as e:
            print(f"\nunreadable record at {msg.topic()}/{msg.partition()}@{msg.offset()}: {e}", file=sys.stderr)
            continue
        if msg.topic() == args.completions_topic:
            completion, completion_at = record, time.monotonic()
            continue
        if record["choice"] < 0 or record["error"] is not None:
            stream_failed = True
            print(f"\nthe job failed: {record['error']}", file=sys.stderr)
            continue
        choice = choices.setdefault(record["choice"], ChoiceText())
        if record["sequence"] < choice.next_sequence:
            continue  # a repeat after a worker crash: already printed
        if record["sequence"] > choice.next_sequence:
            print(f"\nchoice {record['choice']}: sequences {choice.next_sequence} to {record['sequence'] - 1} "
                  "are missing", file=sys.stderr)
        choice.pieces.append(record["text"])
        choice.next_sequence = record["sequence"] + 1
        choice.finish_reason = record["finish_reason"]
        if args.json:
            print(aigc_avro.to_json(record), flush=True)
        elif record["choice"] == 0:
            print(record["text"], end="", flush=True)
    return choices, completion


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # piped into head or less: end quietly, as other tools do
    sys.exit(main())
