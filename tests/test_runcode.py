"""Run codes reproduce a run exactly, stay short, and refuse anything damaged with one sentence."""

from __future__ import annotations

import pytest

from paxos_edu import Config, Simulation
from paxos_edu.runcode import PREFIX, decode, encode, replay


def some_run() -> Simulation:
    sim = Simulation(Config(2, 3, 1, clients=((210, 0), (220, 1)), ring="random", ring_seed=4),
                     seed=9)
    sim.start()
    for _ in range(25):
        sim.step()
    first = next(p for p in sim.pending() if p.kind == "Message")
    sim.duplicate(first.id)
    sim.delay(first.id, 30.0)
    sim.crash(3)
    sim.partition({0, 2}, {1, 3, 4, 5, 6, 7})
    for _ in range(10):
        sim.step()
    sim.heal()
    sim.restart(3)
    sim.run()
    return sim


def test_a_code_replays_the_same_run_step_for_step():
    sim = some_run()
    code = encode(sim.config, sim.seed, sim.actions)
    assert code.startswith(PREFIX) and code.isascii() and " " not in code
    again = replay(code)
    assert again.trace == sim.trace
    assert again.decided() == sim.decided() and again.actions == sim.actions
    assert [p.id for p in again.pending()] == [p.id for p in sim.pending()]


def test_a_code_is_short_and_survives_being_wrapped_when_pasted():
    sim = some_run()
    code = encode(sim.config, sim.seed, sim.actions)
    assert len(code) < 12 * len(sim.actions) + 200, len(code)  # compact: a few bytes a call
    wrapped = "\n".join(code[i:i + 60] for i in range(0, len(code), 60))
    assert replay("  " + wrapped + "\n").trace == sim.trace
    assert decode(code).config == sim.config and decode(code).seed == 9


def test_string_values_and_the_default_config_round_trip():
    sim = Simulation(Config(), seed=0)
    sim.propose("coffee")
    sim.start()
    sim.run()
    again = replay(encode(Config(), 0, sim.actions))
    assert again.decided() == sim.decided() == {5: "coffee"}


@pytest.mark.parametrize("code, says", [
    ("", "must start with 'pxe1.'"),
    ("hello", "must start with 'pxe1.'"),
    (42, "a run code is a string, not int"),
    ("pxe1.!!!", "damaged run code"),
    ("pxe1." + "A" * 40, "damaged run code"),
])
def test_damaged_codes_are_refused_with_one_sentence(code, says):
    with pytest.raises(ValueError, match=says.replace("(", r"\(").replace(")", r"\)")) as err:
        decode(code)
    assert "\n" not in str(err.value)


def _code_of(data: str) -> str:
    import base64
    import zlib
    return PREFIX + base64.urlsafe_b64encode(zlib.compress(data.encode())).decode()


@pytest.mark.parametrize("data, says", [
    ('[1, 2]', "exactly config, seed and actions"),
    ('{"config": {}, "seed": "x", "actions": []}', "seed 'x': must be an integer"),
    ('{"config": {"nodes": 3}, "seed": 0, "actions": []}', "field 'nodes': Config has no such"),
    ('{"config": {"acceptors": 0}, "seed": 0, "actions": []}', "acceptors=0"),
    ('{"config": {}, "seed": 0, "actions": [["close"]]}', "action 0 ['close']: not one of"),
    ('{"config": {}, "seed": 0, "actions": [["__init__", 1]]}', "not one of"),
    ('{"config": {}, "seed": 0, "actions": "start"}', "actions must be a list"),
])
def test_codes_that_decode_but_describe_no_run_name_what_is_wrong(data, says):
    with pytest.raises(ValueError, match=says.replace("[", r"\[").replace("]", r"\]")):
        decode(_code_of(data))


def test_a_code_whose_calls_do_not_fit_its_config_does_not_replay():
    code = _code_of('{"config": {}, "seed": 0, "actions": [["start"], ["deliver", 999]]}')
    with pytest.raises(ValueError, match="run code does not replay"):
        replay(code)


def test_encode_refuses_calls_a_driver_never_records():
    with pytest.raises(ValueError, match="not a recorded driver call"):
        encode(Config(), 0, [("start",), ("close",)])
