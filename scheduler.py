"""newsmon's scheduler daemon (``python scheduler.py`` = ``newsmon schedule``).

A thin entry point: the daemon is ``crawler/daemon.py``.
"""
import sys

from crawler.daemon import main

if __name__ == "__main__":
    sys.exit(main())
