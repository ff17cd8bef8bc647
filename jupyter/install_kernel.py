"""Registers the drht kernel with Jupyter, as `jupyter kernelspec install` does.

    /usr/bin/python3 jupyter/install_kernel.py --user        ~/.local/share/jupyter/kernels/drht
    /usr/bin/python3 jupyter/install_kernel.py --prefix DIR  DIR/share/jupyter/kernels/drht (tests)

The kernelspec runs this clone's drht_kernel.py with the Python that ran this script (it must
have ipykernel: Debian's /usr/bin/python3 after `make jupyter`) and points DRHT_BIN at this
clone's release build, so `make build` (or `make jupyter`) updates what notebooks run.
"""

import argparse
import json
import os
import shutil
import sys
import tempfile

from jupyter_client.kernelspec import KernelSpecManager

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
NAME = "drht"
DISPLAY_NAME = "drht (DRHT network)"


def kernelspec(python=sys.executable, drht=None):
    """The kernel.json contents."""
    return {
        # Debian's Python 3.11 freezes modules, which makes ipykernel's debugger warn on every
        # start; drht's kernel has no debugger, so the warning is switched off.
        "argv": [python, "-Xfrozen_modules=off", os.path.join(HERE, "drht_kernel.py"), "-f", "{connection_file}"],
        "display_name": DISPLAY_NAME,
        "language": "drht",
        "interrupt_mode": "signal",
        "env": {"DRHT_BIN": drht or os.path.join(ROOT, ".build", "release", "drht")},
        "metadata": {"debugger": False},
    }


def install(user=False, prefix=None, drht=None):
    """Writes the kernelspec and returns the folder it went to."""
    try:
        import ipykernel  # noqa: F401  (the kernel runs with this Python: it needs ipykernel)
    except ImportError:
        sys.exit("%s has no ipykernel; run `make jupyter` (Debian's python3-ipykernel) or use /usr/bin/python3" % sys.executable)
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "kernel.json"), "w") as f:
            json.dump(kernelspec(drht=drht), f, indent=2)
        logo = os.path.join(HERE, "logo-64x64.png")
        if os.path.exists(logo):
            shutil.copy(logo, tmp)
        return KernelSpecManager().install_kernel_spec(tmp, NAME, user=user, prefix=prefix)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--user", action="store_true", help="for this user (~/.local/share/jupyter/kernels)")
    where.add_argument("--prefix", help="under PREFIX/share/jupyter/kernels")
    parser.add_argument("--drht", help="the drht executable (default: this clone's .build/release/drht)")
    args = parser.parse_args()
    folder = install(user=args.user, prefix=args.prefix, drht=args.drht)
    print("installed the %s kernel (%s) in %s" % (NAME, DISPLAY_NAME, folder))


if __name__ == "__main__":
    main()
