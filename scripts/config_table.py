"""Print the README's settings table from app/config.py (the schema is the one source)."""

from __future__ import annotations

from app import config


def main() -> None:
    print("| key | type | default | meaning |")
    print("| --- | --- | --- | --- |")
    for key, type_name, default, doc in config.reference():
        print(f"| `{key}` | {type_name} | `{config.toml_value(default)}` | {doc} |")


if __name__ == "__main__":
    main()
