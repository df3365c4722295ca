"""The selective test run's pytest plugin (tools/testimpact.py plans it, ToolService.test_run
loads it with `-p codeintel_select --codeintel-selection=<file>`).

The whole suite is collected as in a full run (so the code run at collection, and its
coverage in the empty context, is the full run's), then every collected test is kept that the
plan selected or that it does not know (a new test), and the others are deselected through
pytest's own `pytest_deselected` hook. The plan is a JSON file {"selected": [node ids],
"known": [node ids], "out": path}; `out` receives {"collected": [...], "executed": [...]}: the
node ids collected (after the suite's own -k/-m filters) and the ones kept. Runs after the
other plugins' modifyitems hooks (trylast), so it sees what a full run would execute.
"""

import json

import pytest


def pytest_addoption(parser):
    parser.addoption("--codeintel-selection", default="",
                     help="codeintel-assets: a JSON file of the tests to run (the others are "
                     "deselected)")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session, config, items):
    path = config.getoption("--codeintel-selection")
    if not path:
        return
    with open(path, encoding="utf-8") as fh:
        plan = json.load(fh)
    selected, known = set(plan["selected"]), set(plan["known"])
    keep = [i for i in items if i.nodeid in selected or i.nodeid not in known]
    drop = [i for i in items if not (i.nodeid in selected or i.nodeid not in known)]
    with open(plan["out"], "w", encoding="utf-8") as fh:
        json.dump({"collected": [i.nodeid for i in items],
                   "executed": [i.nodeid for i in keep]}, fh)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
