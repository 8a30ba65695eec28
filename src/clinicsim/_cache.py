"""``cached_by_content``: a derived form of a model, computed once per model content."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from .model import ClinicModel

__all__ = ["cached_by_content"]

_T = TypeVar("_T")


def cached_by_content(
    build: Callable[[ClinicModel], _T], size: int = 8
) -> Callable[[ClinicModel], _T]:
    """``build(model)``, computed once per model content (:meth:`ClinicModel.content_key`)
    and kept for the ``size`` most recent models. ``build`` must only read the model."""
    cache: OrderedDict[str, _T] = OrderedDict()

    def get(model: ClinicModel) -> _T:
        key = model.content_key()
        if key in cache:
            cache.move_to_end(key)
        else:
            cache[key] = build(model)
            if len(cache) > size:
                cache.popitem(last=False)
        return cache[key]

    return get
