"""Controllers' events are named as client-go's recorder names them: ``<object>.<hex ns>``."""

from __future__ import annotations

from kubelite.controllers.eventrecorder import event_body
from kubelite.model.eventname import event_name, nanoseconds

RS = {"kind": "ReplicaSet", "apiVersion": "apps/v1",
      "metadata": {"name": "web-5d4f", "namespace": "default", "uid": "u"}}  # fmt: skip


def test_an_event_is_named_after_its_object_and_the_moment_it_was_made() -> None:
    body = event_body(
        RS, "Normal", "SuccessfulCreate", "Created pod", "replicaset-controller", 1.5e9
    )
    assert body["metadata"] == {"name": event_name("web-5d4f", nanoseconds(1.5e9)),
                                "namespace": "default"}  # fmt: skip


def test_the_recorder_may_hand_its_own_name_in() -> None:
    body = event_body(RS, "Normal", "X", "m", "c", 1.5e9, "web-5d4f.abc")
    assert body["metadata"]["name"] == "web-5d4f.abc"
