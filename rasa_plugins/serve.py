"""``python -m rasa_plugins.serve run …``: Rasa's own command line, started in-process so that

* the HTTP API token comes from ``RASA_TOKEN`` (environment) instead of ``--auth-token=…`` on the command line,
  where every user of the machine could read it in ``ps`` (``/proc/<pid>/cmdline``). The argument list is
  extended inside the process only; the kernel's copy of the command line stays without the token;
* calls of the action server are bounded (``rasa_plugins.timeouts``, ``ACTION_TIMEOUT``);
* the model loads without Rasa's one training step (``rasa_plugins.fast_load``: same predictions, a quarter of
  the time).

Every other argument goes to ``rasa`` unchanged (``scripts/run.sh`` and ``tests/servers.py`` build the same
command line from ``core.stack``).
"""

from __future__ import annotations

import sys

from rasa_plugins import fast_load, settings, timeouts


def rasa_arguments(argv: list[str], token: str | None) -> list[str]:
    """The arguments for Rasa's CLI: ``argv`` plus ``--auth-token`` for ``run`` when a token is set."""
    if token and argv[:1] == ["run"] and not any(a.startswith("--auth-token") for a in argv):
        return [*argv, f"--auth-token={token}"]
    return list(argv)


def main() -> None:
    timeouts.install()
    fast_load.install()
    sys.argv = ["rasa", *rasa_arguments(sys.argv[1:], settings.rasa_token())]
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
