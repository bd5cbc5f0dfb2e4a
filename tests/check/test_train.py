"""`make train` shows rasa's real warnings and counts the ones `make validate` judges."""
from __future__ import annotations

import io

from core.paths import ROOT
from kefu_check.train import filter_output

RASA_OUTPUT = (
    "\x1b[93m/x/site-packages/rasa/shared/utils/io.py:100: UserWarning: The utterance 'utter_status_food_late'"
    " is not used in any story or rule.\n"
    "\x1b[0m\x1b[93m/x/site-packages/rasa/shared/utils/io.py:100: UserWarning: The intent 'EXTERNAL_handoff_resolved'"
    " is listed in the domain file, but is not found in the NLU training data.\n"
    "\x1b[0m\x1b[93m/x/site-packages/rasa/shared/utils/io.py:100: UserWarning: Issue found in 'data/rules.yml': "
    "Found intent 'greet_typo' in stories which is not part of the domain.\n"
    "/x/site-packages/pkg_resources/__init__.py:3117: DeprecationWarning: Deprecated call to `declare_namespace('ruamel')`.\n"
    "Implementing implicit namespace packages (as specified in PEP 420) is preferred.\n"
    "  declare_namespace(pkg)\n"
    "/x/site-packages/rasa/core/tracker_store.py:1044: MovedIn20Warning: Deprecated API features detected!\n"
    "  Base: DeclarativeMeta = declarative_base()\n"
    "\x1b[92mYour Rasa model is trained and saved at 'models/kefu.tar.gz'.\x1b[0m\n"
)


def test_a_real_warning_and_rasas_own_lines_pass_the_known_ones_are_counted() -> None:
    out = io.StringIO()
    counts = filter_output(io.StringIO(RASA_OUTPUT), out, ROOT)
    shown = out.getvalue()
    assert "greet_typo" in shown, "a real problem in the data must still be printed"
    assert "Your Rasa model is trained" in shown
    assert "utter_status_food_late" not in shown and "EXTERNAL_handoff_resolved" not in shown
    assert "declare_namespace" not in shown and "PEP 420" not in shown and "declarative_base" not in shown
    assert counts == {"code-response": 1, "system-intent": 1, "library": 2}
