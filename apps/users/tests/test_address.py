"""/api/users/address/: owner scope, area chain, defaults, limit, soft delete (API.md §2.1)."""

import threading

import pytest
from django.db import connection

from apps.users.models import Address
from apps.users.services import ADDRESS_LIMIT, address_create
from apps.users.tests.factories import AddressFactory, DistrictFactory, UserFactory

URL = "/api/users/address/"
pytestmark = pytest.mark.django_db


@pytest.fixture
def chain(db):
    district = DistrictFactory()
    return {
        "province": district.parent.parent_id,
        "city": district.parent_id,
        "district": district.pk,
    }


def body(chain, **extra):
    return {"receiver": "Alice", "place": "幸福路1号", "mobile": "13800000000", **chain, **extra}


def test_create_shape_and_first_is_default(chain, client_for):
    user = UserFactory()
    response = client_for(user).post(URL, body(chain, user=UserFactory().pk))
    assert response.status_code == 201, response.json()
    data = response.json()
    assert response["Cache-Control"] == "private, no-store"
    assert set(data) == {
        "id", "receiver", "province", "city", "district", "place", "mobile", "is_default",
        "province_name", "city_name", "district_name", "create_time", "update_time",
    }  # fmt: skip
    assert data["is_default"] is True
    assert Address.objects.get(pk=data["id"]).user == user


@pytest.mark.parametrize(
    ("swap", "field"),
    [("province", "province"), ("city", "city"), ("district", "district")],
)
def test_broken_chain_is_400_on_the_offending_field(chain, client_for, swap, field):
    other = DistrictFactory()
    wrong = {"province": other.parent.parent_id, "city": other.parent_id, "district": other.pk}
    if swap == "province":  # a city where a province belongs → province error
        bad = {**chain, "province": chain["city"]}
    else:
        bad = {**chain, swap: wrong[swap]}
    response = client_for(UserFactory()).post(URL, body(bad))
    assert response.status_code == 400
    assert field in response.json()


def test_bad_mobile_and_unknown_area_are_400(chain, client_for):
    client = client_for(UserFactory())
    assert set(client.post(URL, body(chain, mobile="1234")).json()) == {"mobile"}
    response = client.post(URL, body({**chain, "district": 1}))
    assert response.status_code == 400
    assert set(response.json()) == {"district"}


def test_other_users_address_is_404(client_for):
    mine, theirs = AddressFactory(), AddressFactory()
    client = client_for(mine.user)
    assert client.get(f"{URL}{theirs.pk}/").status_code == 404
    assert client.patch(f"{URL}{theirs.pk}/", {"receiver": "x"}).status_code == 404
    assert client.delete(f"{URL}{theirs.pk}/").status_code == 404
    listed = client.get(URL).json()
    assert [row["id"] for row in listed["results"]] == [mine.pk]


def test_default_switching(chain, client_for):
    user = UserFactory()
    client = client_for(user)
    first = client.post(URL, body(chain)).json()
    second = client.post(URL, body(chain)).json()
    assert (first["is_default"], second["is_default"]) == (True, False)
    third = client.post(URL, body(chain, is_default=True)).json()
    assert third["is_default"] is True
    defaults = Address.objects.filter(user=user, is_default=True).values_list("pk", flat=True)
    assert list(defaults) == [third["id"]]
    response = client.patch(f"{URL}{second['id']}/", {"is_default": True})
    assert response.status_code == 200
    assert list(
        Address.objects.filter(user=user, is_default=True).values_list("pk", flat=True)
    ) == [second["id"]]
    # PATCH without is_default leaves the flag alone
    client.patch(f"{URL}{second['id']}/", {"receiver": "Bob"})
    assert Address.objects.get(pk=second["id"]).is_default


def test_patch_city_must_match_existing_province(client_for):
    address = AddressFactory()
    other = DistrictFactory()
    response = client_for(address.user).patch(f"{URL}{address.pk}/", {"city": other.parent_id})
    assert response.status_code == 400
    assert "city" in response.json()


def test_21st_address_is_400(chain, client_for):
    user = UserFactory()
    district = DistrictFactory()
    for _ in range(ADDRESS_LIMIT):
        AddressFactory(user=user, district=district)
    response = client_for(user).post(URL, body(chain))
    assert response.status_code == 400
    assert set(response.json()) == {"non_field_errors"}
    assert Address.objects.filter(user=user, is_delete=False).count() == ADDRESS_LIMIT


def test_soft_delete_hides_and_frees_a_slot_and_promotes_default(chain, client_for):
    user = UserFactory()
    client = client_for(user)
    first = client.post(URL, body(chain)).json()
    second = client.post(URL, body(chain)).json()
    assert client.delete(f"{URL}{first['id']}/").status_code == 204
    assert Address.objects.filter(pk=first["id"], is_delete=True).exists()
    assert client.get(f"{URL}{first['id']}/").status_code == 404
    assert Address.objects.get(pk=second["id"]).is_default


def test_anon_is_401(api_client, db):
    assert api_client.get(URL).status_code == 401


@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_keep_one_default_and_the_limit(mariadb):
    user = UserFactory()
    district = DistrictFactory()
    for _ in range(ADDRESS_LIMIT - 2):
        AddressFactory(user=user, district=district)
    errors: list[Exception] = []
    barrier = threading.Barrier(4)

    def create() -> None:
        try:
            barrier.wait()
            address_create(
                user=user, receiver="R", province=district.parent.parent, city=district.parent,
                district=district, place="P", mobile="13800000000", is_default=True,
            )  # fmt: skip
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=create) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    live = Address.objects.filter(user=user, is_delete=False)
    assert live.count() == ADDRESS_LIMIT
    assert live.filter(is_default=True).count() == 1
    assert len(errors) == 2
