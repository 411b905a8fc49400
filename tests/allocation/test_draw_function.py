"""The allocation as a pure function of (seed, snapshot): order, ranks, households together."""

import hashlib
import hmac

from allocation.draw import allocate, canonical_json, draw_order, order_key, sha256_hex

SEED = "a" * 64


def snapshot(entries, slots) -> str:
    return canonical_json({"release": 7, "slots": slots, "entries": entries})


def test_the_order_key_is_the_hmac_of_the_snapshot_hash_and_entry_id():
    expected = hmac.new(SEED.encode(), b"abc:12", hashlib.sha256).hexdigest()
    assert order_key(SEED, "abc", 12) == expected


def test_the_canonical_json_does_not_depend_on_the_input_order():
    one = snapshot(
        [{"id": 2, "people": 1, "choices": [5]}, {"id": 1, "people": 2, "choices": [6, 5]}],
        [{"id": 6, "places": 1}, {"id": 5, "places": 3}],
    )
    two = snapshot(
        [{"id": 1, "choices": [6, 5], "people": 2}, {"id": 2, "people": 1, "choices": [5]}],
        [{"places": 3, "id": 5}, {"id": 6, "places": 1}],
    )
    assert one == two
    expected = (
        '{"entries":[{"choices":[6,5],"id":1,"people":2},{"choices":[5],"id":2,"people":1}],'
        '"release":7,"slots":[{"id":5,"places":3},{"id":6,"places":1}]}'
    )
    assert one == expected


def test_each_entry_gets_its_best_choice_with_room_for_everyone_or_nothing():
    entries = [{"id": i, "people": 2, "choices": [10, 11]} for i in range(1, 6)]
    text = snapshot(entries, [{"id": 10, "places": 3}, {"id": 11, "places": 2}])
    result = allocate(SEED, text)
    order = draw_order(SEED, text)
    # first: best choice; second: 10 has 1 place left, too few for 2 -> 11; the rest: nothing.
    assert [result[str(i)] for i in order] == [10, 11, None, None, None]


def test_the_result_is_the_same_for_the_same_inputs_and_differs_with_the_seed():
    entries = [{"id": i, "people": 1, "choices": [10]} for i in range(1, 101)]
    text = snapshot(entries, [{"id": 10, "places": 10}])
    assert allocate(SEED, text) == allocate(SEED, text)
    assert allocate(SEED, text) != allocate("b" * 64, text)
    assert sum(slot is not None for slot in allocate(SEED, text).values()) == 10


def test_the_order_depends_on_the_final_entry_list():
    entries = [{"id": i, "people": 1, "choices": [10]} for i in range(1, 50)]
    text = snapshot(entries, [{"id": 10, "places": 5}])
    more = snapshot([*entries, {"id": 99, "people": 1, "choices": [10]}], [{"id": 10, "places": 5}])
    assert sha256_hex(text) != sha256_hex(more)
    assert [e for e in draw_order(SEED, more) if e != 99] != draw_order(SEED, text)
