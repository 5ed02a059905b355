"""Parses a Prometheus text exposition with the official Python client's parser.

Usage: prometheus_parse.py FILE

Prints `families N samples M` and one `family NAME TYPE` line per metric family; exits
non-zero (with the parser's error) when the text is not a valid exposition, e.g. a family
declared twice or samples of one family split apart.
"""
import sys

from prometheus_client.parser import text_string_to_metric_families

with open(sys.argv[1]) as f:
    text = f.read()
families = list(text_string_to_metric_families(text))
names = [family.name for family in families]
if len(names) != len(set(names)):
    sys.exit(f"a family appears twice: {sorted(n for n in names if names.count(n) > 1)}")
print(f"families {len(families)} samples {sum(len(family.samples) for family in families)}")
for family in families:
    print(f"family {family.name} {family.type}")
