#!/usr/bin/env python3
"""A stand-in for the system browser in the tests (named by $BROWSER): it records the address
it was asked to open in the file named by $PARLEY_TEST_BROWSER_LOG, opens it, follows the
redirects (the authorization server's back to Parley's loopback address), and records the
last page's status and text after it."""
import os
import sys
import urllib.error
import urllib.request

log = os.environ["PARLEY_TEST_BROWSER_LOG"]
os.makedirs(os.path.dirname(log) or ".", exist_ok=True)
url = sys.argv[1]
with open(log, "a", encoding="utf-8") as f:
    f.write(url + "\n")
try:
    with urllib.request.urlopen(url, timeout=30) as r:
        status, text = r.status, r.read().decode()
except urllib.error.HTTPError as e:
    status, text = e.code, e.read().decode()
with open(log, "a", encoding="utf-8") as f:
    f.write("%d %s\n" % (status, text))
