import sys

from reverie.daemon.cli import main

if __name__ == "__main__":  # `python -m reverie.daemon.cli`; importing it runs nothing
    sys.exit(main())
