def explore(*a, **k): raise NotImplementedError
class ExploreResult: pass
