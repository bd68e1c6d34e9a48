"""``InMemoryRepository[User]()``: taking the entity type from the subscript.

Python sets ``__orig_class__`` on an instance of ``Cls[User]`` only after ``__init__`` has
returned, too late for a repository that needs its entity type to open a table. So
subscripting a repository class with a concrete class returns a subclass bound to that
entity type (cached, so ``InMemoryRepository[User]`` is always the same class);
subscripting with a type variable behaves as usual for generic classes.
"""

from __future__ import annotations

import threading
from typing import Any, ClassVar

from victor_core.errors import ConfigurationError
from victor_core.repository.entity import Entity, check_entity_type

_lock = threading.Lock()


class BindsEntityType:
    """Mixin for generic repository classes; see the module docstring."""

    #: Set on the subclasses made by subscripting.
    __bound_entity_type__: ClassVar[type[Entity] | None] = None
    _bound_subclasses: ClassVar[dict[tuple[type, type], type]] = {}

    def __class_getitem__(cls, item: Any) -> Any:
        if not (isinstance(item, type) and issubclass(item, Entity)):
            # A type variable or another typing construct: ordinary generic behaviour.
            return super().__class_getitem__(item)  # type: ignore[misc]
        with _lock:
            bound = BindsEntityType._bound_subclasses.get((cls, item))
            if bound is None:
                bound = type(
                    f"{cls.__name__}[{item.__qualname__}]",
                    (cls,),
                    {
                        "__bound_entity_type__": item,
                        "__module__": cls.__module__,
                        "__qualname__": f"{cls.__qualname__}[{item.__qualname__}]",
                    },
                )
                BindsEntityType._bound_subclasses[(cls, item)] = bound
            return bound

    @classmethod
    def resolve_entity_type(cls, given: object | None) -> type[Any]:
        """The entity type from the argument *given*, the subscript, or both if they agree."""
        bound = cls.__bound_entity_type__
        if given is None:
            if bound is None:
                raise ConfigurationError(
                    f"{cls.__name__} needs the entity class it stores: write "
                    f"{cls.__name__}[User](...) or pass it as the first argument"
                )
            return bound
        checked = check_entity_type(given)
        if bound is not None and bound is not checked:
            raise ConfigurationError(
                f"{cls.__name__} was given two entity classes, {bound.__qualname__} and "
                f"{checked.__qualname__}; give one"
            )
        return checked
