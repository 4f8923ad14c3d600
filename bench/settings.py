"""Settings for the benchmark process: the product's settings, served as production serves
them (DEBUG off, so no query log and no static-file autorefresh), plus the bench-only URLs
that add the one-row baseline endpoint. The product never loads this module."""

import warnings

from helpdesk.settings import *  # noqa: F403
from helpdesk.settings import ALLOWED_HOSTS

# Production serves collected static files; the benchmark requests none.
warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)

DEBUG = False
ROOT_URLCONF = "bench.urls"
ALLOWED_HOSTS = [*ALLOWED_HOSTS, "testserver"]
