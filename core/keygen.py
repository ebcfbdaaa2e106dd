"""Print a new key for data at rest, without Django settings (so it runs before any key
exists, in production too):

    python -m core.keygen field 2027a     # an entry of CONCORD_FIELD_KEYS: 2027a:<base64>
    python -m core.keygen blind-index     # CONCORD_BLIND_INDEX_KEY

Nothing is stored: put the key in the deployment's secret store (README, "Keys for data at
rest")."""

from __future__ import annotations

import sys

from core import blind_index, crypto

USAGE = "usage: python -m core.keygen field <id> | python -m core.keygen blind-index"


def main(argv: list[str]) -> int:
    if argv[:1] == ["blind-index"] and len(argv) == 1:
        print(blind_index.generate_key())
        return 0
    if argv[:1] == ["field"] and len(argv) == 2:
        try:
            print(crypto.generate_key_spec(argv[1]))
        except ValueError as error:
            print(error, file=sys.stderr)
            return 2
        return 0
    print(USAGE, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
