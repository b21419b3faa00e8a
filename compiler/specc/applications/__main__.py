"""``python -m specc.applications NAME [ARGUMENT=VALUE ...]``: an application as a spec.

Prints the spec whose model is ``keras.applications.NAME(...)``, for ``specc summary``
and the other commands (``python -m specc.applications NASNetLarge weights=null >
nasnet.yaml``). Values are YAML (``include_top=false``, ``input_shape=[96,96,3]``).
Exit 2, with one line, for an unknown application or an argument Keras refuses.
"""

from __future__ import annotations

import sys

import yaml

from specc.applications import NAMES, ApplicationError, application_document


def main(argv: list[str]) -> int:
    """Print the spec; 0, or 2 (said on stderr) when it cannot be made."""
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        print(f"applications: {', '.join(NAMES)}", file=sys.stderr)
        return 0 if argv else 2
    arguments = {}
    for given in argv[1:]:
        key, equals, value = given.partition("=")
        if not equals or not key.isidentifier():
            print(f"error: {given!r} is not ARGUMENT=VALUE (e.g. alpha=0.5)", file=sys.stderr)
            return 2
        try:
            arguments[key] = yaml.safe_load(value)
        except yaml.YAMLError:
            print(f"error: {key}: {value!r} is not a YAML value", file=sys.stderr)
            return 2
    try:
        document = application_document(argv[0], **arguments)
    except ApplicationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(yaml.safe_dump(document, sort_keys=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
