import sys

from reverie.daemon.cli import main

sys.exit(main())
