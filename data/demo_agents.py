"""The demo insurer's agents: a few stars, a long tail, some inactive; teams of about eight per branch."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa

from data import reference as ref
from data.demo_arrays import NULL_DAY, epoch_day, person_names, weighted_in_groups
from data.demo_writer import Writer, code_array, sql_date, sql_id

AGENTS_PER_SCALE = 2_000
INACTIVE_AGENT_SHARE = 0.15


def write_agents(w: Writer, rng: np.random.Generator, world: dict, scale: float, params: dict) -> dict:
    """Write teams and agents; return the arrays that sales and visits pick agents from."""
    as_of, start = epoch_day(params["as_of_date"]), epoch_day(params["start_date"])
    n_branch = len(world["branch_ids"])
    share = world["branch_weight"] / world["branch_weight"].sum()
    per_branch = np.maximum(3, np.round(share * AGENTS_PER_SCALE * scale)).astype(np.int64)
    n = int(per_branch.sum())
    branch = np.repeat(np.arange(n_branch), per_branch)
    rank = np.arange(n) - np.repeat(np.cumsum(per_branch) - per_branch, per_branch)   # 0 = manager
    team_in_branch = np.maximum(rank - 1, 0) // 8
    teams_per_branch = np.maximum(per_branch - 2, 0) // 8 + 1
    team_offset = np.cumsum(teams_per_branch) - teams_per_branch
    team = team_offset[branch] + team_in_branch
    is_manager = rank == 0
    is_supervisor = (rank >= 1) & ((rank - 1) % 8 == 0)
    leader = is_manager | is_supervisor

    hire = np.where(leader, epoch_day(dt.date(2008, 1, 1)) + rng.integers(0, 3650, n),
                    epoch_day(dt.date(2017, 1, 1)) + rng.integers(0, as_of - 30 - epoch_day(dt.date(2017, 1, 1)), n))
    leaves = ~leader & (rng.random(n) < 0.5)
    leave = hire + 60 + rng.exponential(900, n).astype(np.int64)
    leave = np.where(leaves & (leave < as_of), leave, -1)
    hire = np.where(~leader & (leave >= 0) & (leave < start), start + rng.integers(0, 400, n), hire)
    leave = np.where((leave >= 0) & (leave <= hire), hire + 180, leave)
    leave = np.where(leave >= as_of, -1, leave)
    tenure = (np.where(leave >= 0, leave, as_of) - hire) / 365.25
    grade = np.select([is_manager, is_supervisor, tenure < 1, tenure < 4], [4, 3, 0, 1], 2)

    weight = rng.lognormal(0, 1.15, n) * np.select([is_manager, is_supervisor], [0.3, 1.5], 1.0)
    weight[~leader & (rng.random(n) < INACTIVE_AGENT_SHARE)] = 0.0
    agents = {
        "branch": branch, "hire": hire, "leave": np.where(leave >= 0, leave, np.iinfo(np.int64).max),
        "weight": weight, "cum": np.cumsum(weight), "starts": np.searchsorted(branch, np.arange(n_branch + 1)),
        "skill": np.exp(rng.normal(0, 0.35, n)),
        "followups": rng.lognormal(np.log(1.1), 0.5, n),
        "minutes": rng.lognormal(np.log(45), 0.3, n),
    }
    branch_ids = np.array(world["branch_ids"], dtype=object)
    team_branch = np.repeat(np.arange(n_branch), teams_per_branch)
    w.insert("dim_team", {"t": np.arange(len(team_branch)), "b": pa.array(branch_ids[team_branch], pa.string())},
             f"{sql_id('T', 't', 5)} AS team_id, b || '团队' || (t + 1) AS name_zh, 'Team ' || (t + 1) AS name_en, "
             "b AS branch_id")
    w.insert("dim_agent", {"a": np.arange(n), "name": person_names(rng, n), "t": team,
                           "b": pa.array(branch_ids[branch], pa.string()),
                           "grade": code_array(grade, ref.codes("agent_grade")), "hire": hire,
                           "leave": np.where(leave >= 0, leave, NULL_DAY)},
             f"{sql_id('A', 'a', 6)} AS agent_id, name, {sql_id('T', 't', 5)} AS team_id, b AS branch_id, "
             f"grade, {sql_date('hire')} AS hire_date, {sql_date('leave')} AS leave_date")
    return agents


def pick_agents(rng, agents: dict, branch: np.ndarray, day: np.ndarray) -> np.ndarray:
    """An agent of the branch, weighted by productivity and active on the day (else the branch manager)."""
    pick = np.full(len(branch), -1)
    todo = np.arange(len(branch))
    for _ in range(8):
        cand = weighted_in_groups(rng, branch[todo], agents["starts"], agents["cum"])
        ok = (agents["hire"][cand] <= day[todo]) & (day[todo] < agents["leave"][cand]) & (agents["weight"][cand] > 0)
        pick[todo[ok]] = cand[ok]
        todo = todo[~ok]
        if not len(todo):
            break
    pick[todo] = agents["starts"][branch[todo]]
    return pick
