"""Honest dates: nothing recorded in the future, and the handling stages in the order they can happen
(a reply after receipt, a follow-up after the reply, a closure after the investigation and reply it closes,
CAPA actions due and done after receipt)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from archive.clock import local_text
from archive.errors import InputError

# (stage, field) pairs a stage file dates itself by.
STAGE_DATES = (("investigation", "completed_at"), ("response", "replied_at"), ("follow_up", "visited_at"),
               ("closure", "closed_at"))
# Stages that cannot happen before another is recorded (closure's own needs are judged in rules.stages,
# which can waive the investigation).
NEEDS = {"follow_up": "response"}
# Each stage's date may not come before these (stage, field) dates of the same case.
NOT_BEFORE = {
    "investigation": (),
    "response": (),
    "follow_up": (("response", "replied_at"),),
    "closure": (("investigation", "completed_at"), ("response", "replied_at")),
}
_ZH = {"completed_at": "调查完成时间", "replied_at": "答复时间", "visited_at": "回访时间", "closed_at": "结案日期",
       "received_at": "投诉时间", "follow_up": "回访 (follow_up)", "response": "答复 (response)"}


def moment(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


def not_in_future(file: str, where: str, value: str, now: dt.datetime, skew: dt.timedelta) -> None:
    if "T" in value:
        if moment(value) > now + skew:
            # "now" in the value's own offset: the time the person who wrote it reads on their clock
            shown = local_text(now, moment(value).tzinfo or dt.UTC)
            raise InputError(file, where, f"{value} is in the future (now {shown})")
    elif dt.date.fromisoformat(value) > (now + skew).date():
        raise InputError(file, where, f"{value} is in the future (today {now.date()})")


def not_before_earliest(file: str, value: str, earliest: dt.date) -> None:
    """received_at's own calendar date (its own UTC offset, like its number's period) against the setting."""
    if moment(value).date() < earliest:
        raise InputError(file, "$.received_at", f"{value} is before {earliest.isoformat()} (archive.toml [intake] "
                                                "earliest_received); a number would be ambiguous across centuries")


def check_stage_dates(file: str, update: dict[str, Any], recorded: dict[str, dict[str, Any]], received_at: str,
                      now: dt.datetime, skew: dt.timedelta) -> None:
    """``update`` is the stage file's data; ``recorded`` the case's current stages (their data)."""
    received = moment(received_at)
    for stage, needed in NEEDS.items():
        if stage in update and needed not in update and needed not in recorded:
            raise InputError(file, f"$.{stage}", f"a {_ZH[stage]} needs the {_ZH[needed]} recorded first "
                                                 f"({needed}: in this file or an earlier one)")
    for stage, key in STAGE_DATES:
        value = update.get(stage, {}).get(key)
        if not value:
            continue
        where = f"$.{stage}.{key}"
        not_in_future(file, where, value, now, skew)
        if moment(value) < received:
            raise InputError(file, where, f"{value} is before the complaint was received ({received_at})")
        for other, other_key in NOT_BEFORE[stage]:
            earlier = update.get(other, {}).get(other_key) or recorded.get(other, {}).get(other_key)
            if earlier and moment(value) < moment(earlier):
                raise InputError(file, where, f"{_ZH[key]} {value} is before the {_ZH[other_key]} {earlier} "
                                              f"({other})")
    for i, action in enumerate(update.get("capa", [])):
        if action.get("done_at"):
            not_in_future(file, f"$.capa[{i}].done_at", action["done_at"], now, skew)
        for key in ("due", "done_at"):
            # A date-only field: compared with the day of receipt in the complaint's own UTC offset.
            if action.get(key) and dt.date.fromisoformat(action[key]) < received.date():
                raise InputError(file, f"$.capa[{i}].{key}", f"{action[key]} is before the complaint was received "
                                                             f"({received_at})")
