"""``ClinicModel``: the network's CPDs as clinicsim's own labelled tables, metadata, targets.

``ClinicModel`` never holds a pgmpy object: each CPD is a frozen :class:`Table` (see
``_table.py`` for its axis order), and ``model.network`` builds a pgmpy network on demand
through the one adapter module, ``clinicsim._pgmpy``.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._errors import InvalidCPDError, ModelError
from .._reference import MONTHS
from .._validate import shown
from ._calendar import MONTH_NODE
from ._history import HistoryModel
from ._metadata import CATEGORIES, Metadata, VisitWindow, parse_metadata
from ._table import Table, check_column, column_label
from ._targets import STATEMENT_TYPES, Statement, Targets

if TYPE_CHECKING:
    import os

    from pgmpy.models import DiscreteBayesianNetwork

    from .._random import SeedLike
    from ._oracle import Oracle

__all__ = ["CATEGORIES", "MONTHS", "MONTH_NODE", "REQUIRED_NODES", "ClinicModel",
           "topological_order"]

REQUIRED_NODES = ("gender", "age_group", "diagnosis", "treatment", "follow_up")
EDITED = "(edited)"  # the mark an edit adds to a model's name
EDIT_LOG = "\nEdited: "  # the description's last line: the edits since the model was loaded


def topological_order(parents: Mapping[str, Sequence[str]]) -> tuple[list[str], list[str]]:
    """Kahn's order of the nodes, and the nodes left on a cycle (empty for a DAG).

    Ties are broken by the required order, then by name, so the order is deterministic.
    """
    rank = {n: (REQUIRED_NODES.index(n) if n in REQUIRED_NODES else len(REQUIRED_NODES), n)
            for n in parents}
    children: dict[str, list[str]] = {n: [] for n in parents}
    indegree = {n: 0 for n in parents}
    for node, ps in parents.items():
        for p in ps:
            children[p].append(node)
            indegree[node] += 1
    order: list[str] = []
    ready = sorted((n for n, d in indegree.items() if d == 0), key=rank.__getitem__)
    while ready:
        node = ready.pop(0)
        order.append(node)
        for child in children[node]:
            indegree[child] -= 1
            if indegree[child] == 0:
                ready.append(child)
        ready.sort(key=rank.__getitem__)
    return order, [n for n in parents if indegree[n] > 0]


class ClinicModel:
    """A clinic's Bayesian network with hand-set CPDs, metadata and stated targets.

    Build one with :func:`clinicsim.default_model` or :func:`clinicsim.load_model`.

    Examples
    --------
    >>> import clinicsim
    >>> model = clinicsim.default_model()
    >>> model.nodes
    ('gender', 'age_group', 'diagnosis', 'treatment', 'follow_up', 'visit_month')
    >>> model.table("follow_up").parents
    ('age_group', 'diagnosis')
    >>> round(float(model.marginal("follow_up")["True"]), 3)
    0.3
    """

    def __init__(
        self,
        tables: Mapping[str, Table],
        *,
        metadata: dict[str, Any],
        targets: Iterable[Statement],
        name: str = "",
        description: str = "",
    ) -> None:
        # Validated by clinicsim.model._schema.model_from_dict, the only caller: tables'
        # parents already follow the topological order, metadata is normalised.
        order, _ = topological_order({n: t.parents for n, t in tables.items()})
        self._order = tuple(order)
        self._tables = {n: tables[n] for n in self._order}
        self._metadata = metadata
        states = {n: list(t.states) for n, t in self._tables.items()}
        self._meta: Metadata = parse_metadata(metadata, states)
        self._targets = Targets(targets)
        self.name = name
        self.description = description
        self._loaded_name = name  # an edit renames the model unless the user named it

    # -- structure ------------------------------------------------------------------
    @property
    def network(self) -> DiscreteBayesianNetwork:
        """A pgmpy ``DiscreteBayesianNetwork`` of this model, built on each access.

        It is detached: editing it (adding or replacing CPDs) never changes the model
        or what it samples. Edit CPDs with :meth:`set_cpd`.
        """
        from .._pgmpy import to_network

        return to_network(self)

    @property
    def nodes(self) -> tuple[str, ...]:
        """Node names in topological order (required nodes first where the order allows)."""
        return self._order

    def parents(self, node: str) -> tuple[str, ...]:
        """The node's parents, in topological order (the order of :meth:`cpd`'s column levels).

        Examples
        --------
        >>> import clinicsim
        >>> clinicsim.default_model().parents("treatment")
        ('age_group', 'diagnosis')
        """
        return self.table(node).parents

    def states(self, node: str) -> list[str]:
        """The node's state names, in CPD row order.

        Examples
        --------
        >>> import clinicsim
        >>> clinicsim.default_model().states("gender")
        ['male', 'female', 'other']
        """
        return list(self.table(node).states)

    def table(self, node: str) -> Table:
        """The CPD of ``node`` as clinicsim's frozen labelled array.

        ``table.values[i, j1, j2, ...]`` is P(node = ``states[i]`` | ``parents[0]`` =
        its ``j1``-th state, ...): parents in topological order, each parent's states in
        its own node's order. Every reader of CPDs (samplers, report) goes through here.
        """
        try:
            return self._tables[node]
        except (KeyError, TypeError):
            raise InvalidCPDError(
                f"unknown node {node!r}; the model's nodes are {list(self.nodes)}") from None

    # -- metadata -------------------------------------------------------------------
    @property
    def metadata(self) -> dict[str, Any]:
        """Age bands, diagnoses (code, category), visit window, holidays, as in the file."""
        return copy.deepcopy(self._metadata)

    @property
    def meta(self) -> Metadata:
        """The metadata parsed into frozen objects (read-only)."""
        return self._meta

    @property
    def age_bands(self) -> dict[str, tuple[int, int]]:
        """Age band state -> ``(min, max)`` years, inclusive."""
        return {b: (lo, hi) for b, lo, hi in self._meta.age_bands}

    @property
    def diagnosis_categories(self) -> dict[str, str]:
        """Diagnosis -> category (``chronic``, ``surgical``, ``viral``, ...)."""
        return {d.name: d.category for d in self._meta.diagnoses}

    @property
    def diagnosis_codes(self) -> dict[str, str]:
        """Diagnosis -> ICD-10-CM code."""
        return {d.name: d.code for d in self._meta.diagnoses}

    @property
    def visit_window(self) -> VisitWindow:
        """The days on which visits fall, with the model's public holidays."""
        return self._meta.window

    @property
    def history(self) -> HistoryModel:
        """The history model (follow-up attendance and chains, return-visit rates): the
        file's ``history:`` section with the defaults filled in."""
        assert self._meta.history is not None  # parse_metadata always sets it
        return self._meta.history

    @property
    def follow_up_days(self) -> dict[str, tuple[int, int]]:
        """Category -> ``(min, max)`` days from a visit to its follow-up."""
        return {c: (lo, hi) for c, lo, hi in self._meta.follow_up_days}

    # -- CPDs -----------------------------------------------------------------------
    def _columns(self, node: str) -> pd.Index:
        t = self.table(node)
        return cpd_columns(t.parents, t.parent_states)

    def cpd(self, node: str) -> pd.DataFrame:
        """The CPD of ``node`` as a labelled table.

        The index holds the node's states, the columns its parents' state combinations
        (a MultiIndex with levels in topological order when there are several parents; a
        single column ``p`` for a root). Each column sums to 1.

        Examples
        --------
        >>> import clinicsim
        >>> cpd = clinicsim.default_model().cpd("follow_up")
        >>> cpd.columns.names, cpd.shape
        (FrozenList(['age_group', 'diagnosis']), (2, 96))
        >>> round(float(cpd.loc["True", ("75_89", "copd")]), 4)
        0.6599
        """
        t = self.table(node)
        return pd.DataFrame(t.matrix.copy(), index=pd.Index(list(t.states), name=node),
                            columns=self._columns(node))

    def set_cpd(self, node: str, table: pd.DataFrame | pd.Series | Mapping[str, float], *,
                normalize: bool = False) -> None:
        """Replace the CPD of ``node``.

        ``table`` is a DataFrame shaped like :meth:`cpd` (rows and columns are aligned by
        label, not position), or for a root node a Series or mapping ``state -> p``.
        Each column must sum to 1 within 1e-9; with ``normalize=True``, columns typed to a
        few decimals (``0.3333`` three times) are divided by their sums, and a column all
        zero or more than 1% from 1 is still refused. Every problem is reported in one
        :class:`InvalidCPDError`; on error the model is unchanged.

        An edit that moves the exact value of a stated target outside its margin (the
        gender shares, the follow-up rate, ...) is made, with a :class:`TargetWarning`
        naming the target, its new value and the fix.

        Examples
        --------
        >>> import clinicsim
        >>> model = clinicsim.default_model()
        >>> model.set_cpd("gender", {"male": 0.45, "female": 0.43, "other": 0.1199},
        ...               normalize=True)  # sums to 0.9999: rescaled
        >>> model.cpd("gender")["p"].round(6).tolist()
        [0.450045, 0.430043, 0.119912]
        """
        old = self.table(node)
        if not isinstance(normalize, (bool, np.bool_)):
            raise InvalidCPDError(f"set_cpd({node!r}): `normalize` must be True or False; got "
                                  f"{shown(normalize)}")
        parents = old.parents
        probs = cpd_matrix(node, table, old.states, parents, old.parent_states, normalize)
        from ._edit import target_figures, warn_moved_targets

        edited = self.copy()
        edited._tables[node] = Table(node, old.states, parents, old.parent_states,
                                     probs.reshape(old.values.shape))
        changed = [j for j in range(probs.shape[1]) if (probs[:, j] != old.matrix[:, j]).any()]
        combos = list(itertools.product(*old.parent_states))
        keep = [(node, {})] if len(changed) == len(combos) else \
            [(node, dict(zip(parents, combos[j], strict=True))) for j in changed]
        # Warned before the edit is made: a warning raised as an error (the filter
        # "error") leaves this model as it was.
        warn_moved_targets(target_figures(self), edited, f"set_cpd({node!r})", keep,
                           stacklevel=2)
        self._tables[node] = edited._tables[node]
        if changed:
            self._record_edit(f"set_cpd({node!r})")

    def _record_edit(self, edit: str) -> None:
        """After an edit the model no longer claims the name it was loaded under (a preset's,
        a file's): ``default`` becomes ``default (edited)`` unless the user has set
        :attr:`name` since, and the description's last line lists the edits."""
        if self.name == self._loaded_name and not self.name.endswith(EDITED):
            self.name = f"{self.name} {EDITED}" if self.name else EDITED.strip("()")
        first = EDIT_LOG.lstrip()  # a description that is only the list of edits
        head, _, log = (("", "", self.description[len(first):])
                        if self.description.startswith(first)
                        else self.description.partition(EDIT_LOG))
        edits = [e for e in log.rstrip(".").split("; ") if e]
        edits += [edit] if edit not in edits else []
        self.description = f"{head}{EDIT_LOG if head else first}{'; '.join(edits)}."

    def add_state(self, node: str, state: str, *, like: str | None = None, p: float,
                  metadata: object = None) -> None:
        """Add ``state`` to ``node``: a new diagnosis, treatment, gender, ...

        ``node``'s own CPD gives the new state probability ``p`` in every column and the
        other states ``(1 - p)`` times what they had. Every CPD with ``node`` as a parent
        gains the new state's columns, copied from those of the state ``like`` (required
        when ``node`` has children). ``metadata`` is the new state's entry in the model's
        metadata, required where every state has one: ``{"code": ..., "category": ...}``
        for a diagnosis, ``{"resource", "system", "code", "display"}`` for a treatment,
        ``[min, max]`` for an age band. The edited model is validated as a model file is:
        every problem is reported in one :class:`ModelError` and the model is unchanged.
        A :class:`TargetWarning` names any stated target that the edit moves outside its
        margin.

        Examples
        --------
        >>> import clinicsim
        >>> model = clinicsim.default_model()
        >>> model.add_state("diagnosis", "covid19", like="influenza", p=0.02,
        ...                 metadata={"code": "U07.1", "category": "viral"})
        >>> model.cpd("treatment")[("25_44", "covid19")].equals(
        ...     model.cpd("treatment")[("25_44", "influenza")])
        True
        >>> model.name
        'default (edited)'
        """
        from ._edit import with_state_added

        self._apply_edit(f"add_state({shown(node)}, {shown(state)})", [(node, {})],
                         lambda: with_state_added(self, node, state, like=like, p=p,
                                                  metadata=metadata))

    def remove_state(self, node: str, state: str) -> None:
        """Remove ``state`` from ``node``: its row of ``node``'s CPD (each column divided by
        what remains), the columns given it in every child's CPD, and its metadata.

        Refused (a :class:`ModelError` naming where; the model unchanged) when a column of
        ``node``'s CPD gives the state probability 1, when ``node`` would be left with one
        state, or when the model without it is invalid (a target naming it, ...).

        Examples
        --------
        >>> import clinicsim
        >>> model = clinicsim.default_model()
        >>> model.remove_state("treatment", "physical_therapy")
        >>> "physical_therapy" in model.states("treatment"), model.name
        (False, 'default (edited)')
        """
        from ._edit import with_state_removed

        self._apply_edit(f"remove_state({shown(node)}, {shown(state)})", [(node, {})],
                         lambda: with_state_removed(self, node, state))

    def add_node(self, name: str, states: Sequence[str], *, parents: Sequence[str] = (),
                 cpd: pd.DataFrame | pd.Series | Mapping[str, float],
                 metadata: Mapping[str, Any] | None = None) -> None:
        """Add the node ``name``, with ``states``, ``parents`` (nodes of the model) and its
        CPD: a DataFrame like :meth:`cpd` (index the states, columns every combination of
        the parents' states, a MultiIndex for several, aligned by label), or for a root a
        Series or mapping ``state -> p``. The node takes its place in the topological
        order (the CPD's column levels, unnamed, are read in that order). ``metadata``, a
        mapping, is kept as the node's entry ``metadata.nodes[name]``.

        The edited model is validated as a model file is: a name that is a records column
        (``age``, ``visit_date``, ...), duplicate or empty states, unknown parents, a CPD
        of the wrong shape or labels (an :class:`InvalidCPDError`) are each named in one
        :class:`ModelError` and the model is unchanged. A :class:`TargetWarning` names any
        stated target the edit moves outside its margin.

        Examples
        --------
        >>> import clinicsim
        >>> model = clinicsim.default_model()
        >>> import pandas as pd
        >>> cpd = pd.DataFrame({b: [0.1, 0.9] if b == "0_14" else [0.3, 0.7]
        ...                     for b in model.states("age_group")}, index=["yes", "no"])
        >>> model.add_node("smoker", ["yes", "no"], parents=["age_group"], cpd=cpd)
        >>> model.nodes
        ('gender', 'age_group', 'diagnosis', 'treatment', 'follow_up', 'smoker', 'visit_month')
        >>> round(float(model.marginal("smoker")["yes"]), 4), model.name
        (0.2667, 'default (edited)')
        """
        from ._edit import with_node_added

        self._apply_edit(f"add_node({shown(name)})", [(name, {})] if isinstance(name, str)
                         else [], lambda: with_node_added(self, name, states, parents=parents,
                                                          cpd=cpd, metadata=metadata))

    def remove_node(self, name: str, *,
                    cpds: Mapping[str, pd.DataFrame | pd.Series | Mapping[str, float]]
                    | None = None) -> None:
        """Remove the node ``name`` (and its ``metadata.nodes`` entry).

        Refused (a :class:`ModelError` naming why; the model unchanged) for the required
        nodes (``gender``, ``age_group``, ``diagnosis``, ``treatment``, ``follow_up``), for
        a node that a target statement names, and for a node with children unless
        ``cpds`` gives each child's new CPD, ``{child: table}``, as :meth:`set_cpd` takes
        it, without ``name`` among its parents (or first :meth:`remove_edge` each child,
        which sums the node out exactly).

        Examples
        --------
        >>> import clinicsim
        >>> model = clinicsim.default_model()
        >>> model.remove_node("visit_month")
        >>> model.nodes
        ('gender', 'age_group', 'diagnosis', 'treatment', 'follow_up')
        >>> model.remove_node("follow_up")
        Traceback (most recent call last):
            ...
        clinicsim._errors.ModelError: remove_node('follow_up'): 'follow_up' is a required \
node (gender, age_group, diagnosis, treatment, follow_up)
        """
        from ._edit import with_node_removed

        keep: list[tuple[str, dict[str, str]]] = [
            (c, {}) for c in self.nodes if isinstance(name, str) and name in self.parents(c)]
        self._apply_edit(f"remove_node({shown(name)})", keep,
                         lambda: with_node_removed(self, name, cpds))

    def add_edge(self, parent: str, child: str, *,
                 cpd: pd.DataFrame | pd.Series | Mapping[str, float]) -> None:
        """Add the edge ``parent -> child``; ``cpd`` is the child's new CPD, a DataFrame like
        :meth:`cpd` over its parents with ``parent`` among them (in topological order
        after the edit; named levels are aligned by label).

        Refused (a :class:`ModelError` naming it; the model unchanged) for unknown nodes,
        an edge that exists, an edge that makes a cycle (the message spells the cycle) and
        a CPD of the wrong shape or labels (an :class:`InvalidCPDError`).

        Examples
        --------
        >>> import clinicsim
        >>> model = clinicsim.default_model()
        >>> cpd = model.cpd("visit_month")   # the same months for either gender
        >>> import pandas as pd
        >>> both = pd.concat({g: cpd for g in model.states("gender")}, axis=1,
        ...                  names=["gender"])
        >>> model.add_edge("gender", "visit_month", cpd=both)
        >>> model.parents("visit_month")
        ('gender', 'diagnosis')
        >>> model.add_edge("visit_month", "gender", cpd={})
        Traceback (most recent call last):
            ...
        clinicsim._errors.ModelError: add_edge('visit_month', 'gender'): the edge would make \
the cycle visit_month -> gender -> visit_month
        """
        from ._edit import with_edge_added

        self._apply_edit(f"add_edge({shown(parent)}, {shown(child)})",
                         [(child, {})] if isinstance(child, str) else [],
                         lambda: with_edge_added(self, parent, child, cpd))

    def remove_edge(self, parent: str, child: str, *,
                    cpd: pd.DataFrame | pd.Series | Mapping[str, float] | None = None) -> None:
        """Remove the edge ``parent -> child``.

        ``cpd`` is the child's new CPD over its other parents; without it, ``parent`` is
        summed out exactly: P(child | others) = Σ_p P(child | p, others) P(p | others), with
        P(p | others) by the model's own exact inference, so the joint distribution of
        the child and its other parents (the child's marginal with it) is unchanged.
        Refused (a :class:`ModelError`; the model unchanged) for unknown nodes, an edge
        that does not exist and a CPD of the wrong shape or labels.

        Examples
        --------
        >>> import clinicsim
        >>> model = clinicsim.default_model()
        >>> before = model.query(["age_group", "diagnosis"])
        >>> model.remove_edge("gender", "diagnosis")  # summed out over the genders
        >>> model.parents("diagnosis")
        ('age_group',)
        >>> float((model.query(["age_group", "diagnosis"]) - before).abs().max()) < 1e-12
        True
        """
        from ._edit import with_edge_removed

        self._apply_edit(f"remove_edge({shown(parent)}, {shown(child)})",
                         [(child, {})] if isinstance(child, str) else [],
                         lambda: with_edge_removed(self, parent, child, cpd))

    def _apply_edit(self, edit: str, keep: Sequence[tuple[str, dict[str, str]]],
                    build: Callable[[], ClinicModel]) -> None:
        """Replace this model's content by ``build()`` (validated, or it raises and nothing
        changes), warn about targets it moved (``keep``: the CPDs it set, as
        ``fit_targets(keep=...)`` names them), then record the edit (a warning raised as an
        error leaves the model unchanged)."""
        from ._edit import target_figures, warn_moved_targets

        new = build()
        # Warned before the edit is made, as in set_cpd; the warning points at the caller
        # of the public method.
        warn_moved_targets(target_figures(self), new, edit, keep, stacklevel=3)
        self._order, self._tables, self._metadata, self._meta, self._targets = (
            new._order, new._tables, new._metadata, new._meta, new._targets)
        self._record_edit(edit)

    # -- inference, copies, files, sampling -----------------------------------------
    def marginal(self, node: str) -> pd.Series:
        """The exact marginal distribution of ``node``, a Series indexed by its states.

        Computed by clinicsim's own variable elimination (:meth:`query`).

        Examples
        --------
        >>> import clinicsim
        >>> clinicsim.default_model().marginal("follow_up").round(4).to_dict()
        {'True': 0.3, 'False': 0.7}
        """
        self.table(node)  # an unknown node is an InvalidCPDError, as before
        return self.query([node])

    def query(self, variables: str | Sequence[str],
              evidence: Mapping[str, object] | None = None) -> pd.Series:
        """The exact table P(variables | evidence), by clinicsim's variable elimination.

        Parameters
        ----------
        variables : str or sequence of str
            One node, or several distinct nodes.
        evidence : mapping, optional
            ``node -> state`` or ``node -> list of states`` (the node is in one of them).

        Returns
        -------
        pandas.Series
            Named ``p``, summing to 1. One node: indexed by its states (an Index named
            after the node). Several: a MultiIndex over every combination of their states
            in the order given. A given node that is also queried keeps all its states
            (those outside the evidence have probability 0).

        Raises
        ------
        ModelError
            Unknown nodes or states, or evidence of probability 0 (the message names it).

        Examples
        --------
        >>> import clinicsim
        >>> model = clinicsim.default_model()
        >>> table = model.query(["follow_up"], evidence={"diagnosis": "hypertension"})
        >>> round(float(table["True"]), 3)
        0.543
        """
        from ._inference import query

        return query(self, variables, evidence)

    def oracle(self, target: str, features: Sequence[str] | None = None) -> Oracle:
        """The exact Bayes-optimal predictor of ``target`` from record columns ``features``.

        Its posterior P(target | features) comes from this model's own exact inference,
        and its accuracy, log loss, Brier score and AUC are exact over the model's
        distribution (sums over every feature pattern, not a sample): the ceiling a model
        fitted on sampled records can reach.

        Parameters
        ----------
        target : str
            A node of the model.
        features : sequence of str, optional
            Record columns (``age`` gives its ``age_group`` band, ``visit_date`` its
            ``visit_month`` when the model has that node). Default: every other column
            that carries information, leaving out the columns that leak the label
            (``follow_up_date`` for ``follow_up``; ``diagnosis_code`` and
            ``diagnosis_category`` for ``diagnosis``), which the result names in ``leaks``.

        Returns
        -------
        Oracle
            ``predict_proba(records)``, ``accuracy``, ``log_loss``, ``brier``, ``auc``
            (one-vs-rest macro average for a target of more than two states), ``leaks``.

        Raises
        ------
        ArgumentError
            The target is not a node; a feature is unknown, is the target, or repeats a
            node another feature gives.

        Examples
        --------
        >>> import clinicsim
        >>> best = clinicsim.default_model().oracle("follow_up")
        >>> best.features, best.leaks
        (('visit_date', 'age', 'gender', 'diagnosis', 'treatment'), ('follow_up_date',))
        >>> round(best.auc, 4)
        0.8061
        """
        from ._oracle import oracle

        return oracle(self, target, features)

    def content_key(self) -> str:
        """A digest of everything that defines the model: nodes, states, parents, CPD
        values, metadata (holiday dates included), targets and name. Equal models have
        equal keys; any edit (``set_cpd``) changes it.

        Examples
        --------
        >>> import clinicsim
        >>> a, b = clinicsim.default_model(), clinicsim.default_model()
        >>> a.content_key() == b.content_key()
        True
        >>> b.remove_state("treatment", "physical_therapy")
        >>> a.content_key() == b.content_key()
        False
        """
        # Every exact query asks for the key: the digest of the tables, metadata and
        # targets is kept while they are the same objects (tables and targets are
        # immutable and metadata is never edited in place, only replaced), so a query
        # costs no pass over 10,000 statements. The name is public: hashed each time.
        parts = (*self._tables.values(), self._metadata, self._targets)
        cached = self.__dict__.get("_key_cache")
        if cached is None or len(cached[0]) != len(parts) \
                or any(a is not b for a, b in zip(cached[0], parts, strict=True)):
            digest = hashlib.sha256()
            for table in self._tables.values():
                digest.update(repr(table.key()).encode())
            digest.update(repr((self._metadata, self._targets)).encode())
            cached = self._key_cache = (parts, digest.hexdigest())
        return hashlib.sha256(f"{cached[1]}{self.name!r}".encode()).hexdigest()

    # -- targets --------------------------------------------------------------------
    @property
    def targets(self) -> Targets:
        """The stated targets: an immutable sequence of statements (:class:`Share`,
        :class:`Rate`, :class:`Difference`, :class:`Trend`, :class:`Even`).

        >>> import clinicsim
        >>> print(clinicsim.default_model().targets)
        share gender
        rate follow_up=True
        difference follow_up=True where diagnosis_category=chronic,surgical,viral
        trend follow_up=True over age_group where diagnosis_category=chronic
        even age 0..89
        """
        return self._targets

    def with_targets(self, statements: Iterable[Statement | Mapping[str, Any]]) -> ClinicModel:
        """A copy of this model whose targets are ``statements``.

        Each is a statement object or a mapping as in a model file's ``targets:`` list
        (``{"rate": {"follow_up": "True"}, "value": 0.3, "margin": 0.02}``). Each is
        checked against this model's nodes and states; every problem is named by its
        index and field in one :class:`ModelError`.

        Examples
        --------
        >>> import clinicsim
        >>> model = clinicsim.default_model()
        >>> rate = {"rate": {"follow_up": "True"}, "value": 0.3, "margin": 0.01}
        >>> mine = model.with_targets([rate])
        >>> [str(t) for t in mine.targets], len(model.targets)
        (['rate follow_up=True'], 5)
        """
        from ._targets import parse_statements, statements_to_list, unreachable

        if isinstance(statements, (str, Mapping)) or not isinstance(statements, Iterable):
            raise ModelError("`statements` must be a list of statements or mappings; got "
                             f"{type(statements).__name__}")
        items = list(statements)
        spec = [statements_to_list([s])[0] if isinstance(s, STATEMENT_TYPES) else s
                for s in items]
        new = self.copy()
        new._targets = parse_statements(spec, {n: self.states(n) for n in self.nodes})
        errors = unreachable(new)
        if errors:
            raise ModelError(errors)
        if new._targets != self._targets:
            new._record_edit("with_targets()")
        return new

    def fit_targets(self, keep: Iterable[tuple[str, Mapping[str, str]]] = ()) -> ClinicModel:
        """A copy whose exact values meet every equality target, changing CPDs least.

        Each ``share``, ``rate`` and ``even`` statement about node X (``even`` is about
        ``age_group``) is met to 1e-9 by tilting X's own CPD, P'(x | pa) ∝ P(x | pa)·exp(λ·f),
        the least Kullback–Leibler change of that table given its parents' distribution;
        several statements on one node are solved together, nodes in topological order.
        Zero probabilities stay zero. ``difference`` and ``trend`` statements are then
        checked on the exact fitted model. :func:`clinicsim.model.cpd_changes` lists what
        moved.

        Parameters
        ----------
        keep : iterable of (node, {parent: state, ...})
            CPD columns that must not change: every column of ``node`` whose parents take
            the given states, e.g. ``[("follow_up", {"diagnosis": "asthma"})]``.

        Raises
        ------
        ModelError
            The statements cannot all be met (they conflict, a kept column or a zero makes
            one impossible, one conditions on its node's descendants, or a difference or
            trend fails after fitting): the message names the statements. This model never
            changes.

        Examples
        --------
        >>> import clinicsim
        >>> model = clinicsim.default_model()
        >>> edited = model.with_targets([*model.targets[:1],
        ...     {"rate": {"follow_up": "True"}, "value": 0.25, "margin": 0.02}])
        >>> fitted = edited.fit_targets()
        >>> round(float(fitted.marginal("follow_up")["True"]), 12)
        0.25
        """
        from ._fit import fit_targets

        return fit_targets(self, keep)

    def copy(self) -> ClinicModel:
        """A deep copy: edits to it do not touch this model.

        Examples
        --------
        >>> import clinicsim
        >>> model = clinicsim.default_model()
        >>> other = model.copy()
        >>> other.remove_state("treatment", "physical_therapy")
        >>> len(model.states("treatment")), len(other.states("treatment"))
        (13, 12)
        """
        # Tables and parsed metadata are immutable: only the containers are copied.
        new = copy.copy(self)
        new._tables = dict(self._tables)
        new._metadata = copy.deepcopy(self._metadata)
        return new

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the model to ``path``; the format follows the suffix.

        ``.yaml``/``.yml``/``.json`` keep everything; ``.bif``/``.xmlbif`` (pgmpy) keep
        the network only. The file is written atomically.

        Examples
        --------
        >>> import clinicsim
        >>> model = clinicsim.default_model()
        >>> model.save("my_clinic.yaml")
        >>> clinicsim.load_model("my_clinic.yaml").cpd("follow_up").equals(model.cpd("follow_up"))
        True
        """
        from ._files import save_model

        save_model(self, path)

    def sample(
        self, n: int, seed: SeedLike = None, engine: str = "numpy", extended: bool = False,
        given: Mapping[str, object] | None = None,
    ) -> pd.DataFrame:
        """Draw ``n`` records (a cohort with ``given``); see :func:`clinicsim.sample`.

        Examples
        --------
        >>> import clinicsim
        >>> model = clinicsim.default_model()
        >>> model.sample(1000, seed=1).equals(clinicsim.sample(1000, model=model, seed=1))
        True
        """
        # The one import of simulate from model: deferred, so model never needs simulate
        # to load (the layers model <- simulate <- analysis stay without a cycle).
        from ..simulate import sample

        return sample(n, model=self, seed=seed, engine=engine, extended=extended, given=given)

    def __repr__(self) -> str:
        sizes = ", ".join(f"{n}[{len(self.states(n))}]" for n in self.nodes)
        return f"<ClinicModel {self.name!r}: {sizes}>"

    def _repr_html_(self) -> str:  # a notebook's display: network drawing, nodes, states
        from ._display import model_html

        return model_html(self)


def cpd_columns(parents: Sequence[str], parent_states: Sequence[Sequence[str]]) -> pd.Index:
    """The columns of :meth:`ClinicModel.cpd` for these parents: ``p`` for a root, the
    parent's states for one, a MultiIndex of every combination (in this order) for more."""
    if not parents:
        return pd.Index(["p"])
    if len(parents) == 1:
        return pd.Index(list(parent_states[0]), name=parents[0])
    return pd.MultiIndex.from_product([list(s) for s in parent_states], names=list(parents))


def cpd_matrix(node: str, table: object, states: Sequence[str], parents: Sequence[str],
               parent_states: Sequence[Sequence[str]], normalize: bool = False) -> np.ndarray:
    """A CPD given as :meth:`ClinicModel.set_cpd` takes it (a DataFrame like ``cpd()``,
    aligned by label; a Series or mapping for a root), checked: the array of shape
    ``(len(states), combinations of parent_states)``, columns in ``itertools.product``
    order. Every problem is reported in one :class:`InvalidCPDError`."""
    states, parents = list(states), tuple(parents)
    expected = cpd_columns(parents, parent_states)
    frame = _as_frame(node, table, expected)
    errors = []
    rows = [str(s) for s in frame.index]
    if sorted(rows) != sorted(states):
        missing = [s for s in states if s not in rows]
        extra = [r for r in dict.fromkeys(rows) if r not in states]
        twice = [s for s in states if rows.count(s) > 1]
        errors.append(f"CPD for {node!r}: rows must be its states {states} once each; "
                      f"missing {missing}, unknown {extra}"
                      + (f", duplicated {twice}" if twice else ""))
    columns = _align_columns(node, frame, parents, expected, errors)
    if errors:
        raise InvalidCPDError(errors)
    frame = frame.set_axis(rows, axis=0).loc[states]
    frame.columns = columns
    values = frame[expected].to_numpy(dtype=object)
    probs = np.empty(values.shape)
    for j, combo in enumerate(expected):
        combo = combo if isinstance(combo, tuple) else (combo,)
        label = column_label(parents, combo) if parents else ""
        column, problems = check_column(node, label, states, values[:, j], normalize)
        errors += problems
        if column is not None:
            probs[:, j] = column
    if errors:
        raise InvalidCPDError(errors)
    return probs


def _as_frame(node: str, table: object, expected: pd.Index) -> pd.DataFrame:
    if isinstance(table, pd.DataFrame):
        return table
    if isinstance(table, (pd.Series, Mapping)) and expected.equals(pd.Index(["p"])):
        return pd.DataFrame({"p": pd.Series(table, dtype=object)})
    kind = "a DataFrame like model.cpd(node)"
    if expected.equals(pd.Index(["p"])):
        kind += ", a Series or a mapping state -> probability"
    raise InvalidCPDError(f"CPD for {node!r} must be {kind}; got {type(table).__name__}")


def _align_columns(
    node: str, frame: pd.DataFrame, parents: tuple[str, ...], expected: pd.Index, errors: list[str]
) -> pd.Index:
    """``frame``'s columns relabelled in ``expected``'s level order, or errors appended."""
    if not parents:
        if frame.shape[1] != 1:
            errors.append(f"CPD for root node {node!r} must have one column; got {frame.shape[1]}")
        return expected
    columns = frame.columns
    names = [n for n in columns.names if n is not None]
    if names and sorted(names, key=str) != sorted(parents):
        errors.append(f"CPD for {node!r}: column levels must be its parents {list(parents)}; "
                      f"got {list(columns.names)}")
        return expected
    if names and tuple(names) != parents and isinstance(columns, pd.MultiIndex):
        columns = columns.reorder_levels(list(parents))
    if columns.nlevels != len(parents):
        errors.append(f"CPD for {node!r} needs {len(parents)} column level(s) for parents "
                      f"{list(parents)}; got {columns.nlevels}")
        return expected
    got = [tuple(map(str, c)) if isinstance(c, tuple) else (str(c),) for c in columns]
    want = [c if isinstance(c, tuple) else (c,) for c in expected]
    if len(set(got)) != len(got) or set(got) != set(want):
        missing = [column_label(parents, c) for c in want if c not in set(got)][:5]
        extra = [column_label(parents, c) for c in got if c not in set(want)][:5]
        twice = [column_label(parents, c) for c in dict.fromkeys(got) if got.count(c) > 1][:5]
        hint = (f" (the column levels are unnamed, so they are read in parent order "
                f"{list(parents)}; name them to align by label)" if not names else "")
        errors.append(f"CPD for {node!r}: columns must be every combination of "
                      f"{list(parents)} once; missing {missing}, unknown {extra}"
                      + (f", duplicated {twice}" if twice else "") + hint)
        return expected
    if len(parents) == 1:
        return pd.Index([c[0] for c in got], name=parents[0])
    return pd.MultiIndex.from_tuples(got, names=list(parents))
