"""Acceptor symmetry: states that differ only by a renaming of the acceptors are searched once.

Acceptors are interchangeable: same role, same configuration, only the uid differs. For
a permutation p of the acceptor uids, ``R_p`` renames them everywhere in a state: which
acceptor holds which state, the src and dst of the messages in flight, timers, storage,
the proposers' Ack dicts (keys, in arrival order) and accepted-by sets, the learners'
vote sets. The search keeps the real state it reached (so the schedule it returns is
the real one, replayable in a ``Simulation``) and only dedupes by ``key``, the least
``R_p(state)`` in a fixed order: one key per orbit.

Why that is sound. Write ``s -> t`` for a step. If every step commutes with every
renaming (``s -> t`` iff ``R_p(s) -> R_p(t)``) and a renaming never changes whether
safety is broken, then every state reachable in ``d`` steps has a renamed copy reached
in at most ``d`` steps by the search (induction on ``d``: the copy of the parent was
expanded, and its successors are the copies of the parent's successors). So a violation
is found iff one exists, and breadth-first still finds a shortest one.

The first condition is read off the code, the second is checked as the search runs:

- the safety monitor names acceptors only as dict keys and counts them (a majority of
  distinct acceptors, each acceptor's own promise), never as particular uids, and
  renaming is a bijection, so no verdict changes (``core/invariants.py``); only the
  wording of an explanation ("acceptor 2 accepted ...") does, and the schedule
  returned is the real one, so its replay names the real acceptors;
- every node step the search works out (a delivery, a timer, a restart) is worked out
  again for each renaming of its input and compared with the renaming of its result
  (``verify``); a role that treats acceptors differently by uid (say, trusts acceptor 2
  more) fails the comparison and the search starts again without symmetry.

The stale-message pruning of ``reduce=True`` reads only the message, the proposer's
number and status, and whether the sender is one of its acceptors, none of which a
renaming changes.
"""

from __future__ import annotations

import itertools

from .explorer_model import Model
from .explorer_nodes import clone, role_key


class NotSymmetric(Exception):
    """A role's step does not commute with renaming the acceptors."""


class AcceptorSymmetry:
    """Renaming tables for every permutation of the acceptors, and the canonical state key."""

    def __init__(self, model: Model):
        self.model = model
        acc = self.acceptors = tuple(model.roles.acceptors)
        self.perms = list(itertools.permutations(range(len(acc))))
        index = {p: k for k, p in enumerate(self.perms)}
        # compose[j][k]: the permutation "k, then j"
        self.compose = [[index[tuple(pj[pk[i]] for i in range(len(acc)))]
                         for pk in self.perms] for pj in self.perms]
        uids = list(range(model.config.n_consensus)) + list(model.config.client_uids)
        size = max(uids) + 1
        self.uid_maps = []
        for p in self.perms:
            umap = list(range(size))
            for i, a in enumerate(acc):
                umap[a] = acc[p[i]]
            self.uid_maps.append(umap)
        self.others = tuple(u for u in uids if u not in acc)
        self.node_tbl: list[list[int]] = [[] for _ in self.perms]  # p -> node id -> image
        self.msg_tbl: list[list[int]] = [[] for _ in self.perms]   # p -> message id -> image
        self.anon: list[int] = []          # node id -> its acceptor state without the uid
        self.anon_ids: dict = {}
        self.views: dict = {}              # non-acceptor node ids -> each acceptor's view
        self.node_keys: dict = {}          # nodes tuple -> (least nodes image id, renamings)
        self.head_ids: dict = {}
        self.view_ids: dict = {}
        self.candidates: dict = {}         # signature -> (sorted, the renamings sorting it)
        self.storage = model.restart_budget > 0
        self._filling = self._verifying = False
        model.on_new_node, model.on_new_msg, model.verify = self._new_node, self._new_msg, self.verify

    # -- renaming ------------------------------------------------------------------------
    def rename_node(self, node, k: int):
        """``R_k`` of a node: its uid if it is an acceptor, and the acceptor uids it holds."""
        umap = self.uid_maps[k]
        twin = clone(node)
        role = twin.role
        if node.uid in self.acceptors:
            twin.uid = umap[node.uid]
            if getattr(role, "uid", None) == node.uid:
                role.uid = twin.uid
        acks = getattr(role, "acks", None)
        if isinstance(acks, dict):
            role.acks = {umap[a]: v for a, v in acks.items()}
        accepted_by = getattr(role, "accepted_by", None)
        if isinstance(accepted_by, set):
            role.accepted_by = {umap[a] for a in accepted_by}
        votes = getattr(role, "votes", None)
        if isinstance(votes, dict):
            role.votes = {nv: {umap[a] for a in who} for nv, who in votes.items()}
        return twin

    def _new_node(self, nid: int) -> None:
        for table in self.node_tbl:
            table.append(-1)
        node = self.model.nodes[nid]
        if node.uid in self.acceptors:
            self.anon.append(self.anon_ids.setdefault(role_key(node, ("uid",)),
                                                      len(self.anon_ids)))
        else:
            self.anon.append(-1)
        if self._filling:
            return  # an image: the orbit being filled sets its entries
        self._filling = True
        try:
            ids = [nid if k == 0 else self.model.node_id(self.rename_node(node, k))
                   for k in range(len(self.perms))]
        finally:
            self._filling = False
        self._fill(self.node_tbl, ids)

    def _new_msg(self, mid: int) -> None:
        for table in self.msg_tbl:
            table.append(-1)
        if self._filling:
            return
        src, dst, msg = self.model.msgs[mid]
        self._filling = True
        try:
            ids = [mid if k == 0 else self.model.msg_id(umap[src], umap[dst], msg)
                   for k, umap in enumerate(self.uid_maps)]
        finally:
            self._filling = False
        self._fill(self.msg_tbl, ids)

    def _fill(self, tables: list[list[int]], ids: list[int]) -> None:
        # ids[k] = R_k(x); then R_j(R_k(x)) = R_(j after k)(x).
        for j, table in enumerate(tables):
            row = self.compose[j]
            for k, image in enumerate(ids):
                table[image] = ids[row[k]]

    # -- the canonical key ----------------------------------------------------------------
    def _view(self, node) -> tuple:
        # How a non-acceptor node sees each acceptor (its Ack's report, accepted-by, votes):
        # R_p moves acceptor i's view to acceptor p(i), so sorting by it is fair. (Not the
        # Acks' arrival order: a node state is its fields with dicts as sets of pairs.)
        role = node.role
        acks = getattr(role, "acks", None)
        acks = acks if isinstance(acks, dict) else {}
        accepted_by = getattr(role, "accepted_by", None) or ()
        votes = getattr(role, "votes", None)
        votes = votes if isinstance(votes, dict) else {}
        out = []
        for a in self.acceptors:
            voted = sorted(repr(nv) for nv, who in votes.items() if a in who)
            code = (repr(acks[a]) if a in acks else None, a in accepted_by, tuple(voted))
            out.append(self.view_ids.setdefault(code, len(self.view_ids)))
        return tuple(out)

    def _signature(self, others: tuple) -> tuple:
        views = [self._view(self.model.nodes[nid]) for nid in others]
        sig = tuple(zip(*views, strict=True)) if views else ((),) * len(self.acceptors)
        self.views[others] = sig
        return sig

    def _sorting(self, sig: tuple) -> tuple:
        # The renamings that put the acceptors' signatures in ascending order by uid.
        want = sorted(sig)
        found = []
        for k, p in enumerate(self.perms):
            image = [None] * len(sig)
            for i, part in enumerate(sig):
                image[p[i]] = part
            if image == want:
                found.append(k)
        entry = self.candidates[sig] = (tuple(want), tuple(found))
        return entry

    def key(self, s: tuple) -> tuple:
        """The least renaming of state ``s``: equal for two states iff one renames the other.

        Only renamings that sort the acceptors by a renaming-invariant signature (its own
        state, and how the proposers and learners see it) can give the least image; of
        those, only the ones giving the least image of the nodes (worked out once per
        nodes tuple); of those, the least whole image is taken.
        """
        entry = self.node_keys.get(s[0]) or self._node_key(s[0])
        head, cands = entry
        timers, storage = s[2], s[3]
        best = None
        for k, table in cands:
            image = (head, s[4], s[5], self._timers(timers, k) if timers else (),
                     self._storage(storage, k) if self.storage else None,
                     *sorted(map(table.__getitem__, s[1])))
            if best is None or image < best:
                best = image
        return best

    def _node_key(self, nodes: tuple) -> tuple:
        others = tuple([nodes[u] for u in self.others])
        views = self.views.get(others) or self._signature(others)
        anon = self.anon
        sig = tuple([(anon[nodes[a]], v) for a, v in zip(self.acceptors, views, strict=True)])
        want, cands = self.candidates.get(sig) or self._sorting(sig)
        images = {k: (want, *[self.node_tbl[k][n] for n in others]) for k in cands}
        least = min(images.values())
        head = self.head_ids.setdefault(least, len(self.head_ids))
        entry = self.node_keys[nodes] = (head, [(k, self.msg_tbl[k]) for k in cands
                                                if images[k] == least])
        return entry

    def _timers(self, timers, k: int) -> tuple:
        umap = self.uid_maps[k]
        return tuple(sorted((umap[u], name) for u, name in timers))

    def _storage(self, storage: tuple, k: int) -> tuple:
        umap = self.uid_maps[k]
        image = list(storage)
        for a in self.acceptors:
            image[umap[a]] = storage[a]
        return tuple(image)

    # -- checking that every step commutes with every renaming ---------------------------
    def verify(self, nid: int | None, what, res, uid: int | None = None) -> None:
        """Raise NotSymmetric unless step ``what`` at ``nid`` renames like its result ``res``.

        ``nid`` None is a restart of node ``uid`` from storage id ``what``.
        """
        if self._verifying:
            return  # an image of a step being verified (the group closes the orbit)
        self._verifying = True
        try:
            for k in range(1, len(self.perms)):
                if nid is None:
                    got = self.model.restart_step(self.uid_maps[k][uid], what)
                else:
                    image_what = self.msg_tbl[k][what] if type(what) is int else what
                    got = self.model.step(self.node_tbl[k][nid], image_what)
                if self._image(res, k) != self._image(got, 0):
                    raise NotSymmetric(f"a step of {self._who(nid, uid)} changes when the "
                                       "acceptors are renamed")
        finally:
            self._verifying = False

    def _image(self, res, k: int):
        if res is None:
            return None
        umap, mt = self.uid_maps[k], self.msg_tbl[k]
        events = self.model.events[res.eid] if res.eid is not None else ()
        return (self.node_tbl[k][res.nid], sorted(mt[m] for m in res.plain),
                sorted((mt[m], umap[dst]) for m, dst in res.watched),
                sorted(mt[m] for m in res.once),
                [(op, (umap[u], name)) for op, (u, name) in res.timer_ops], res.store,
                res.grew, res.prunes,
                # the monitor reads an event's kind, src and message, never a send's dst
                [(ev["kind"], umap[ev["src"]], repr(ev["msg"])) for ev in events])

    def _who(self, nid, uid) -> str:
        node = self.model.nodes[nid] if nid is not None else None
        return f"node {node.uid if node is not None else uid}"
