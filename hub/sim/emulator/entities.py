"""The emulated sensor's entities: what ListEntities describes and SubscribeStates reports."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import Any, Final

from aioesphomeapi import api_pb2 as _api_pb2

api_pb2: Any = _api_pb2  # classes are generated at import time: mypy cannot see them

_FNV_OFFSET: Final = 2166136261
_FNV_PRIME: Final = 16777619
ENTITY_CATEGORY_CONFIG: Final = 1
ENTITY_CATEGORY_DIAGNOSTIC: Final = 2
STATE_CLASS_MEASUREMENT: Final = 1
STATE_CLASS_TOTAL_INCREASING: Final = 2


class EntityKind(Enum):
    """The ESPHome entity platforms the emulator has."""

    SENSOR = "sensor"
    BINARY_SENSOR = "binary_sensor"
    SWITCH = "switch"


@dataclass(frozen=True, slots=True)
class Entity:
    """One entity as ESPHome lists it."""

    kind: EntityKind
    name: str
    unit: str = ""
    device_class: str = ""
    icon: str = ""
    state_class: int = 0
    category: int = 0

    @property
    def object_id(self) -> str:
        """ESPHome's ``str_sanitize(str_snake_case(name))``."""
        return re.sub(r"[^a-z0-9_-]", "_", self.name.lower().replace(" ", "_"))

    @property
    def key(self) -> int:
        """ESPHome's entity key: 32-bit FNV-1 of the object id."""
        return fnv1_hash(self.object_id)


def fnv1_hash(text: str) -> int:
    """32-bit FNV-1 as ``esphome::fnv1_hash``."""
    value = _FNV_OFFSET
    for byte in text.encode():
        value = (value * _FNV_PRIME) & 0xFFFFFFFF
        value ^= byte
    return value


WIFI_SIGNAL: Final = Entity(
    EntityKind.SENSOR,
    "WiFi signal",
    unit="dBm",
    device_class="signal_strength",
    state_class=STATE_CLASS_MEASUREMENT,
    category=ENTITY_CATEGORY_DIAGNOSTIC,
)
UPTIME: Final = Entity(
    EntityKind.SENSOR,
    "Uptime",
    unit="s",
    device_class="duration",
    state_class=STATE_CLASS_TOTAL_INCREASING,
    category=ENTITY_CATEGORY_DIAGNOSTIC,
)
STATUS: Final = Entity(EntityKind.BINARY_SENSOR, "Status", device_class="connectivity")
MIC_MUTE: Final = Entity(
    EntityKind.SWITCH, "Microphone mute", icon="mdi:microphone-off", category=ENTITY_CATEGORY_CONFIG
)


def entities(voice_assistant: bool) -> tuple[Entity, ...]:
    """The entity list of a sensor with or without a microphone."""
    base = (WIFI_SIGNAL, UPTIME, STATUS)
    return (*base, MIC_MUTE) if voice_assistant else base


def list_response(entity: Entity) -> Any:
    """The ListEntities*Response describing ``entity``."""
    common: dict[str, Any] = {
        "object_id": entity.object_id,
        "key": entity.key,
        "name": entity.name,
        "entity_category": entity.category,
    }
    if entity.kind is EntityKind.SENSOR:
        return api_pb2.ListEntitiesSensorResponse(
            **common,
            unit_of_measurement=entity.unit,
            device_class=entity.device_class,
            state_class=entity.state_class,
            accuracy_decimals=0,
        )
    if entity.kind is EntityKind.BINARY_SENSOR:
        return api_pb2.ListEntitiesBinarySensorResponse(
            **common, device_class=entity.device_class, is_status_binary_sensor=True
        )
    return api_pb2.ListEntitiesSwitchResponse(**common, icon=entity.icon)


def state_response(entity: Entity, value: float | bool) -> Any:
    """The *StateResponse carrying ``value`` for ``entity``."""
    if entity.kind is EntityKind.SENSOR:
        return api_pb2.SensorStateResponse(key=entity.key, state=float(value))
    if entity.kind is EntityKind.BINARY_SENSOR:
        return api_pb2.BinarySensorStateResponse(key=entity.key, state=bool(value))
    return api_pb2.SwitchStateResponse(key=entity.key, state=bool(value))
