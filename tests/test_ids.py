"""Operation ids match the official SDK's algorithm (PROTOCOL.md §3 test vectors)."""

from eventflow.core.scope import Scope
from eventflow.ids import branch_id, child_id, hash_id


def test_root_ids_match_the_protocol_vectors() -> None:
    scope = Scope()
    assert [scope.next_id() for _ in range(3)] == [
        "1ced8f5be2db23a6513eba4d819c73806424748a7bc6fa0d792cc1c7d1775a97",
        "c5faca15ac2f93578b39ef4b6bbb871bdedce4ddd584fd31f0bb66fade3947e6",
        "6f760b9e9eac89f07ab0223b0f4acb04d1e355d893a1b86a83f4d4b405adee99",
    ]


def test_child_and_branch_ids_match_the_protocol_vectors() -> None:
    root3 = child_id(None, 3)
    assert Scope(root3).next_id() == "4fcce65ec00309c63e7973cc7ba98d082f6db23ff491f8ae0d358d94a449573f"
    assert (
        branch_id(child_id(None, 1), 0) == "1712f93e2f51df042e2b933907d75accfe34a48fe4a42a24e0b08131bc72d591"
    )


def test_ids_are_64_hex_digits_of_blake2b() -> None:
    assert len(hash_id("anything")) == 64
    assert hash_id("1") == child_id(None, 1)
    assert hash_id("abc-2") == child_id("abc", 2)
