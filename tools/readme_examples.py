#!/usr/bin/env python3
"""Regenerates the outputs of the README's examples from a running server.

Every ```graphql block between <!-- examples:start --> and <!-- examples:end --> that is followed by a
```json block is sent to SERVER/graphql; the json block is replaced by the answer, formatted one item
per line where it does not fit on one. Usage:

    innograph serve --data-dir /tmp/fresh &          # a fresh data directory: the bundled graph
    python3 tools/readme_examples.py http://127.0.0.1:8080 README.md
"""
import json
import re
import sys
import urllib.request

WIDTH = 110


def fmt(value, indent=0):
    compact = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    if not isinstance(value, (dict, list)) or len(compact) + indent <= WIDTH:
        return compact
    pad = " " * (indent + 2)
    if isinstance(value, list):
        items = [pad + fmt(v, indent + 2) for v in value]
        return "[\n" + ",\n".join(items) + "\n" + " " * indent + "]"
    items = [pad + json.dumps(k, ensure_ascii=False) + ": " + fmt(v, indent + 2) for k, v in value.items()]
    return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"


def run(server, query):
    request = urllib.request.Request(
        server.rstrip("/") + "/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def main():
    server, path = sys.argv[1], sys.argv[2]
    text = open(path, encoding="utf-8").read()
    start, end = text.index("<!-- examples:start -->"), text.index("<!-- examples:end -->")
    examples = text[start:end]
    pattern = re.compile(r"```graphql\n(.*?)```\n(\s*)```json\n.*?```", re.S)

    def replace(match):
        answer = run(server, match.group(1))
        if "errors" in answer:
            sys.exit(f"the example failed: {answer['errors']}\n{match.group(1)}")
        return f"```graphql\n{match.group(1)}```\n{match.group(2)}```json\n{fmt(answer)}\n```"

    examples, count = pattern.subn(replace, examples)
    open(path, "w", encoding="utf-8").write(text[:start] + examples + text[end:])
    print(f"{count} examples regenerated")


if __name__ == "__main__":
    main()
