"""``traverse_lineage`` (contract 4.7): breadth-first traversal answers pinned from Contexta
1.0.0 on the data of ``_entities_data``, its option errors, decision 8.10 (``upstream`` /
``downstream`` aliases), and a property: a one-way traversal visits exactly what BFS over the
stored edges reaches within the depth limit."""

from __future__ import annotations

import tempfile
from collections import deque
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contexta.common.errors import ValidationError
from contexta.interpretation import LineageError, LineageService, LineageTraversal
from contexta.interpretation.workspace_queries import QueryService

from ._entities_data import Writer, build, open_ctx

R1 = "run:proj-a.r1"


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory):
    ctx = build(tmp_path_factory.mktemp("lineage") / ".contexta")
    yield ctx
    ctx.close()


def _edges(t: LineageTraversal) -> list[tuple]:
    return [
        (
            e.relation_ref,
            e.direction,
            e.depth,
            e.provenance.provenance_ref if e.provenance else None,
            e.provenance.run_id if e.provenance else None,
        )
        for e in t.edges
    ]


def test_default_traversal_from_a_run_matches_1_0(ctx) -> None:
    t = ctx.traverse_lineage(R1)
    assert t.root_ref == R1
    assert _edges(t) == [
        ("relation:chain.one", "inbound", 1, None, None),
        ("relation:proj-a.r1.deploy", "both", 0, None, None),
        ("relation:proj-a.r1.produced", "inbound", 0, "provenance:p1", R1),
        ("relation:proj-a.r1.rec", "inbound", 0, None, None),
        ("relation:proj-a.r1.train-used", "both", 0, "provenance:p2", R1),
        ("relation:proj-a.r2.derived", "both", 0, "provenance:p3", "run:proj-a.r2"),
    ]
    assert t.visited_refs == (
        R1,
        "deployment:proj-a.serve-b",
        "artifact:proj-a.r1.model",
        "record:proj-a.r1.m1",
        "stage:proj-a.r1.train",
        "artifact:proj-a.r1.data",
        "artifact:proj-a.r2.model",
        "artifact:proj-a.r2.deep",
    )
    assert t.completeness_notes == ()
    assert len(t.evidence_links) == 14
    # links in discovery order, not sorted: relation, then its source and target
    assert [(link.kind, link.ref, link.label) for link in t.evidence_links[:3]] == [
        ("relation", "relation:proj-a.r1.deploy", "deployed_from"),
        ("ref", "deployment:proj-a.serve-b", "deployment:proj-a.serve-b"),
        ("ref", "artifact:proj-a.r1.model", "artifact:proj-a.r1.model"),
    ]


@pytest.mark.parametrize(
    ("subject", "kwargs", "edges", "visited"),
    [
        (
            R1,
            {"direction": "inbound"},
            [
                ("relation:chain.one", "inbound", 2, None, None),
                ("relation:proj-a.r1.deploy", "inbound", 1, None, None),
                ("relation:proj-a.r1.produced", "inbound", 0, "provenance:p1", R1),
                ("relation:proj-a.r1.rec", "inbound", 0, None, None),
                ("relation:proj-a.r2.derived", "inbound", 1, "provenance:p3", "run:proj-a.r2"),
            ],
            [
                R1,
                "artifact:proj-a.r1.model",
                "record:proj-a.r1.m1",
                "deployment:proj-a.serve-b",
                "artifact:proj-a.r2.model",
            ],
        ),
        (R1, {"direction": "outbound"}, [], [R1]),
        (
            "artifact:proj-a.r1.model",
            {"max_depth": 5},
            [
                ("relation:chain.one", "inbound", 1, None, None),
                ("relation:proj-a.r1.deploy", "inbound", 0, None, None),
                ("relation:proj-a.r1.produced", "outbound", 0, "provenance:p1", R1),
                ("relation:proj-a.r1.rec", "inbound", 1, None, None),
                ("relation:proj-a.r1.train-used", "both", 1, "provenance:p2", R1),
                ("relation:proj-a.r2.derived", "inbound", 0, "provenance:p3", "run:proj-a.r2"),
            ],
            [
                "artifact:proj-a.r1.model",
                "deployment:proj-a.serve-b",
                R1,
                "artifact:proj-a.r2.model",
                "record:proj-a.r1.m1",
                "stage:proj-a.r1.train",
                "artifact:proj-a.r1.data",
                "artifact:proj-a.r2.deep",
            ],
        ),
        (
            "artifact:proj-a.r2.deep",
            {"direction": "outbound", "max_depth": 3},
            [
                ("relation:chain.one", "outbound", 0, None, None),
                ("relation:proj-a.r1.produced", "outbound", 2, "provenance:p1", R1),
                ("relation:proj-a.r2.derived", "outbound", 1, "provenance:p3", "run:proj-a.r2"),
            ],
            ["artifact:proj-a.r2.deep", "artifact:proj-a.r2.model", "artifact:proj-a.r1.model", R1],
        ),
        (
            "artifact:proj-a.r1.model",
            {"direction": "inbound", "max_depth": 0},
            [
                ("relation:proj-a.r1.deploy", "inbound", 0, None, None),
                ("relation:proj-a.r2.derived", "inbound", 0, "provenance:p3", "run:proj-a.r2"),
            ],
            ["artifact:proj-a.r1.model"],
        ),
        (
            "stage:proj-a.r1.train",
            {},
            [
                ("relation:chain.one", "inbound", 1, None, None),
                ("relation:proj-a.r1.deploy", "both", 0, None, None),
                ("relation:proj-a.r1.produced", "both", 0, "provenance:p1", R1),
                ("relation:proj-a.r1.rec", "inbound", 1, None, None),
                ("relation:proj-a.r1.train-used", "outbound", 0, "provenance:p2", R1),
                ("relation:proj-a.r2.derived", "both", 0, "provenance:p3", "run:proj-a.r2"),
            ],
            [
                "stage:proj-a.r1.train",
                "deployment:proj-a.serve-b",
                "artifact:proj-a.r1.model",
                R1,
                "artifact:proj-a.r1.data",
                "artifact:proj-a.r2.model",
                "record:proj-a.r1.m1",
                "artifact:proj-a.r2.deep",
            ],
        ),
        (
            "run:proj-a.r2",
            {"max_depth": 1},
            [
                ("relation:a-dataset", "inbound", 0, None, None),
                ("relation:chain.one", "both", 0, None, None),
                ("relation:proj-a.r1.deploy", "inbound", 1, None, None),
                ("relation:proj-a.r1.produced", "outbound", 1, "provenance:p1", R1),
                ("relation:proj-a.r2.derived", "both", 0, "provenance:p3", "run:proj-a.r2"),
                ("relation:proj-a.r2.op", "inbound", 0, "provenance:p4", "run:proj-a.r2"),
            ],
            [
                "run:proj-a.r2",
                "dataset:vendor.v1",
                "artifact:proj-a.r2.deep",
                "artifact:proj-a.r2.model",
                "artifact:proj-a.r1.model",
                "op:proj-a.r2.train.fit",
            ],
        ),
    ],
)
def test_traversals_match_1_0(ctx, subject, kwargs, edges, visited) -> None:
    t = ctx.traverse_lineage(subject, **kwargs)
    assert _edges(t) == edges
    assert list(t.visited_refs) == visited


def test_deployment_run_links_are_not_lineage(ctx) -> None:
    t = ctx.traverse_lineage("deployment:proj-a.canary")
    assert (t.edges, t.visited_refs) == ((), ("deployment:proj-a.canary",))
    assert [(n.severity, n.summary, dict(n.details)) for n in t.completeness_notes] == [
        ("info", "lineage_root_has_no_relations", {"root_ref": "deployment:proj-a.canary"})
    ]
    # existence of the root is not checked
    assert ctx.traverse_lineage("model:nowhere").visited_refs == ("model:nowhere",)


@pytest.mark.parametrize(
    ("alias", "direction"), [("upstream", "inbound"), ("downstream", "outbound")]
)
def test_upstream_and_downstream_are_aliases(ctx, alias, direction) -> None:
    # 1.0 rejected both with lineage_invalid_direction (decision 8.10)
    for subject in (R1, "artifact:proj-a.r1.model", "artifact:proj-a.r2.deep"):
        aliased = ctx.traverse_lineage(subject, direction=alias, max_depth=4)
        assert aliased == ctx.traverse_lineage(subject, direction=direction, max_depth=4)
        assert {e.direction for e in aliased.edges} <= {direction}


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"direction": "sideways"}, "lineage_invalid_direction"),
        ({"direction": "INBOUND"}, "lineage_invalid_direction"),
        ({"max_depth": -1}, "lineage_invalid_max_depth"),
        ({"max_depth": 1.5}, "lineage_invalid_max_depth"),
        ({"max_depth": "2"}, "lineage_invalid_max_depth"),
    ],
)
def test_invalid_options_raise_lineage_errors(ctx, kwargs, code) -> None:
    with pytest.raises(LineageError) as err:
        ctx.traverse_lineage(R1, **kwargs)
    assert err.value.code == code


def test_subject_must_be_ref_text(ctx) -> None:
    with pytest.raises(ValidationError) as err:
        ctx.traverse_lineage("nocolon")
    assert err.value.code == "stable_ref_invalid_text"


def test_lineage_answers_as_of_a_past_time(tmp_path: Path) -> None:
    ctx = build(tmp_path / ".contexta")
    then = list(ctx.history())[-1].tx_time
    before = ctx.traverse_lineage(R1, max_depth=5)
    Writer(ctx).relation(
        "late",
        "reported_by",
        "artifact:proj-a.r1.model",
        "artifact:proj-a.r9.report",
        "2025-02-02T00:00:00Z",
    )
    assert ctx.traverse_lineage(R1, max_depth=5) != before
    past = LineageService(QueryService(ctx._workspace, ctx.config, int(then.timestamp() * 1e6)))
    assert past.traverse_lineage(R1, max_depth=5) == before


# ---------------------------------------------------------------------- property


def _bfs(edges: list[tuple[int, int]], root: int, limit: int, forward: bool) -> dict[int, int]:
    dist = {root: 0}
    queue = deque([root])
    while queue:
        node = queue.popleft()
        if dist[node] == limit:
            continue
        for a, b in edges:
            src, dst = (a, b) if forward else (b, a)
            if src == node and dst not in dist:
                dist[dst] = dist[node] + 1
                queue.append(dst)
    return dist


graphs = st.lists(
    st.tuples(st.integers(0, 6), st.integers(0, 6)).filter(lambda e: e[0] != e[1]),
    min_size=0,
    max_size=10,
    unique=True,
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edges=graphs, root=st.integers(0, 6), limit=st.integers(0, 4), forward=st.booleans())
def test_one_way_traversal_is_bfs_reachability(edges, root, limit, forward) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        ctx = open_ctx(Path(tmp) / ".contexta")
        w = Writer(ctx)
        node = "artifact:g.r.n{}".format
        for i, (a, b) in enumerate(edges):
            w.relation(f"e{i}", "derived_from", node(a), node(b), "2025-02-01T12:00:00Z")
        t = ctx.traverse_lineage(
            node(root), direction="outbound" if forward else "inbound", max_depth=limit
        )
        dist = _bfs(edges, root, limit, forward)
        assert set(t.visited_refs) == {node(n) for n in dist}
        assert t.visited_refs[0] == node(root)
        expected = {
            f"relation:e{i}": dist[a if forward else b]
            for i, (a, b) in enumerate(edges)
            if (a if forward else b) in dist
        }
        assert {e.relation_ref: e.depth for e in t.edges} == expected
        assert [e.relation_ref for e in t.edges] == sorted(expected)
        ctx.close()
