"""Domain errors survive pickling (Celery retries) with their message, code and extra keys."""

import copy
import pickle

from utils.exceptions import Conflict, SearchUnavailable, ServiceUnavailable


def test_search_unavailable_round_trips_with_its_message():
    error = pickle.loads(pickle.dumps(SearchUnavailable()))
    assert type(error) is SearchUnavailable
    assert error.message == "Search is temporarily unavailable."
    assert str(error) == "Search is temporarily unavailable."
    assert error.status_code == 503


def test_extra_keys_survive_copy_and_pickle():
    error = Conflict("Insufficient stock.", commodity=[3, 5])
    for clone in (pickle.loads(pickle.dumps(error)), copy.deepcopy(error)):
        assert (clone.message, clone.extra, clone.code) == (
            "Insufficient stock.",
            {"commodity": [3, 5]},
            "conflict",
        )


def test_named_service_message():
    assert ServiceUnavailable("File storage").message == "File storage is temporarily unavailable."
