#!/usr/bin/env python3
"""Publishes one generation request straight to the requests topic and prints its id.

    python3 examples/python/produce.py --prompt "This License applies to" --max-tokens 24 --temperature 0
    python3 examples/python/produce.py --messages '[{"role": "user", "content": "Hello"}]'
    python3 examples/python/produce.py --task news-summary --field title="Seeds" --field body="A vault opened."

With --output FILE the single-object bytes go to FILE instead of Kafka, for any other producer (kcat -P).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid

from confluent_kafka import Producer

import aigc_avro


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    text = p.add_mutually_exclusive_group(required=True)
    text.add_argument("--prompt", help="the text to continue")
    text.add_argument("--messages", help='a chat as JSON: [{"role": "user", "content": "..."}, ...]')
    text.add_argument("--task", help="a named task (news-summary, ad-copy, email-reply, lesson-outline, or the "
                                     "operator's), its fields given with --field")
    p.add_argument("--field", action="append", default=[], metavar="KEY=VALUE",
                   help="a field of the task (repeatable)")
    p.add_argument("--max-tokens", type=int, default=16)
    p.add_argument("--temperature", type=float, default=1.0, help="0 is greedy")
    p.add_argument("--top-p", type=float, default=1.0)
    p.add_argument("--top-k", type=int, default=0)
    p.add_argument("-n", type=int, default=1, help="choices to generate")
    p.add_argument("--seed", type=int)
    p.add_argument("--stop", action="append", default=[], help="a stop string (repeatable)")
    p.add_argument("--ignore-eos", action="store_true", help="generate max_tokens even past end of sequence")
    p.add_argument("--logprobs", type=int, help="report each token's log-probability and this many alternatives")
    p.add_argument("--model", help="the served model's name (optional)")
    p.add_argument("--timeout-seconds", type=float, help="a deadline: not generated once it has passed")
    p.add_argument("--metadata", action="append", default=[], metavar="KEY=VALUE",
                   help="carried unchanged into the completion (repeatable)")
    p.add_argument("--id", default=None, help="the request id (default: a new UUID)")
    p.add_argument("--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
                   help="the brokers (default: $KAFKA_BOOTSTRAP_SERVERS or 127.0.0.1:9092)")
    p.add_argument("--topic", default=os.environ.get("AIGC_TOPIC_REQUESTS", "generation.requests"))
    p.add_argument("--output", help="write the record's bytes to this file instead of publishing them")
    return p.parse_args()


def request(args: argparse.Namespace) -> dict:
    """The GenerationRequest; every field left out takes its schema default."""
    now = int(time.time() * 1000)
    params = {"max_tokens": args.max_tokens, "temperature": args.temperature, "top_p": args.top_p,
              "top_k": args.top_k, "n": args.n, "seed": args.seed, "stop": args.stop,
              "ignore_eos": args.ignore_eos, "logprobs": args.logprobs}
    record = {"request_id": args.id or str(uuid.uuid4()), "created_at": now, "model": args.model,
              "prompt": args.prompt or "", "params": params,
              "metadata": dict(item.split("=", 1) for item in args.metadata)}
    if args.messages is not None:
        record["messages"] = json.loads(args.messages)
    if args.task is not None:
        # Parameters left at their defaults (max_tokens 16, temperature 1, ...) take the task's.
        record["task"] = args.task
        record["task_fields"] = dict(item.split("=", 1) for item in args.field)
    if args.timeout_seconds is not None:
        record["deadline"] = now + int(args.timeout_seconds * 1000)
    return record


def main() -> int:
    args = parse_args()
    record = request(args)
    value = aigc_avro.encode("GenerationRequest", record)
    if args.output:
        with open(args.output, "wb") as out:
            out.write(value)
        print(record["request_id"])
        return 0

    failures = []
    # murmur2 partitions a key as Java clients do, so a request lands where the gateway would have put it.
    producer = Producer({"bootstrap.servers": args.bootstrap, "enable.idempotence": True,
                         "partitioner": "murmur2_random"})
    producer.produce(args.topic, key=record["request_id"], value=value,
                     on_delivery=lambda err, msg: err and failures.append(err))
    if producer.flush(30) > 0 or failures:
        print(f"not published to {args.topic} at {args.bootstrap}: {failures or 'timed out'}", file=sys.stderr)
        return 1
    print(record["request_id"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
