# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The Prometheus text exposition format (version 0.0.4), written by hand: it is small.

A family is ``(name, type, help, samples)``; a sample is ``(suffix, labels,
value)`` where the suffix is "" for gauges and counters and "_bucket",
"_sum" or "_count" for histograms.
"""

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _label_value(value):
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(labels):
    if not labels:
        return ""
    return "{" + ",".join(f'{name}="{_label_value(value)}"' for name, value in labels.items()) + "}"


def render(families):
    lines = []
    for name, kind, help_text, samples in families:
        lines.append(f"# HELP {name} {help_text}")
        lines.append(f"# TYPE {name} {kind}")
        lines.extend(f"{name}{suffix}{_labels(labels)} {value}" for suffix, labels, value in samples)
    return "\n".join(lines) + "\n"


def histogram_samples(labels, bounds, counts_at_or_below, total_sum, total_count):
    """One histogram series: cumulative buckets, +Inf, sum and count.

    ``counts_at_or_below[i]`` is the number of observations at or below ``bounds[i]``.
    """
    samples = [
        ("_bucket", {**labels, "le": str(float(bound))}, count)
        for bound, count in zip(bounds, counts_at_or_below, strict=True)
    ]
    samples += [
        ("_bucket", {**labels, "le": "+Inf"}, total_count),
        ("_sum", labels, float(total_sum)),
        ("_count", labels, total_count),
    ]
    return samples
