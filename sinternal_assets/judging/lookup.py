"""The offline expert the warehouse says is current (the one fitted last), loaded from its file."""

from __future__ import annotations

from sinternal_assets.judging.offline_expert import OfflineExpert
from sinternal_assets.storage.warehouse import Warehouse


def current_offline_expert(wh: Warehouse) -> OfflineExpert:
    rows = wh.query("current_offline_expert")
    if rows.is_empty():
        raise RuntimeError("the teacher is the offline expert, but none is fitted: materialize `offline_expert` first")
    expert = OfflineExpert.load(rows["path"][0])
    if expert.expert_hash != rows["expert_hash"][0]:
        raise ValueError(
            f"{rows['path'][0]}: holds offline expert {expert.expert_hash}, the warehouse expects "
            f"{rows['expert_hash'][0]}: re-materialize `offline_expert`"
        )
    return expert
