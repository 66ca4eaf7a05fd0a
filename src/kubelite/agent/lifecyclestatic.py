"""Static pods that keep their lifecycle records: the pod source of ``kubelite run
--timeline``, whose pictures are drawn from the records when the run ends."""

from __future__ import annotations

from typing import Any

from kubelite.agent.lifecycle import LifecycleBook
from kubelite.agent.static import StaticPods


class RecordedStaticPods(StaticPods):
    """``StaticPods`` offering a ``LifecycleBook`` (``lifecycle.KeepsLifecycles``)."""

    def __init__(self, *, lifecycle: LifecycleBook, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._book = lifecycle

    @property
    def lifecycle(self) -> LifecycleBook:
        return self._book
