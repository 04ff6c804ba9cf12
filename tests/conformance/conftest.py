from collections import Counter


def pytest_terminal_summary(terminalreporter):
    from conformance.cases import CATEGORIES
    from conformance.test_conformance import ALL_CASES

    counts = Counter(c.category for c in ALL_CASES)
    passed = [r for r in terminalreporter.stats.get("passed", [])
              if "test_conformance_case_is_rejected_safely" in r.nodeid]
    terminalreporter.write_line(
        "conformance suite: " + ", ".join(f"{k} {counts[k]}" for k in CATEGORIES)
        + f" — {len(ALL_CASES)} cases, {len(passed)} passed in this run")
