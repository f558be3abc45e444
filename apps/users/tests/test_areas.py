"""Areas: `load_areas` and the cached read-only endpoints (API.md §2.1 "Area")."""

import pytest
from django.core.management import call_command

from apps.users.models import Area
from apps.users.selectors import AREA_CACHE_NAMESPACE
from apps.users.tests.factories import CityFactory, DistrictFactory, UserFactory
from utils import cache as response_cache

URL = "/api/users/area/"


@pytest.fixture
def loaded(db):
    call_command("load_areas", "--no-progress")


def test_load_areas_is_complete_consistent_and_idempotent(loaded):
    total = Area.objects.count()
    assert total > 3000
    assert Area.objects.filter(parent__isnull=True).count() == 34
    assert Area.objects.get(pk=130000).name == "河北省"
    assert Area.objects.get(pk=130100).parent_id == 130000
    assert Area.objects.get(pk=130102).parent.parent_id == 130000  # 长安区 → 石家庄市 → 河北省
    beijing_district = Area.objects.get(pk=110101)
    assert beijing_district.parent.parent_id == 110000  # municipality: grouping row 110100
    # every non-province sits under a province or under a city that sits under a province
    assert not Area.objects.filter(
        parent__isnull=False, parent__parent__parent__isnull=False
    ).exists()
    Area.objects.filter(pk=130000).update(name="renamed")
    call_command("load_areas", "--no-progress")
    assert Area.objects.count() == total
    assert Area.objects.get(pk=130000).name == "河北省"


def test_area_list_is_unpaginated_provinces(loaded, client_for):
    response = client_for(UserFactory()).get(URL)
    assert response.status_code == 200
    body = response.json()
    assert isinstance(body, list)
    assert len(body) == 34
    assert body[0] == {"id": 110000, "name": "北京市"}


def test_area_detail_has_subs(loaded, client_for):
    response = client_for(UserFactory()).get(f"{URL}130000/")
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["name"]) == (130000, "河北省")
    assert {"id": 130100, "name": "石家庄市"} in body["subs"]
    assert all(set(sub) == {"id", "name"} for sub in body["subs"])


@pytest.mark.django_db
def test_area_detail_is_cached_per_id_in_the_area_cache(client_for):
    city = CityFactory()
    other = CityFactory()
    district = DistrictFactory(parent=city)
    client = client_for(UserFactory())
    first = client.get(f"{URL}{city.pk}/").json()
    assert first["subs"] == [{"id": district.pk, "name": district.name}]
    assert client.get(f"{URL}{other.pk}/").json()["id"] == other.pk  # key includes the id
    Area.objects.filter(pk=city.pk).update(name="changed")
    assert client.get(f"{URL}{city.pk}/").json()["name"] == city.name  # served from cache
    response_cache.bump(AREA_CACHE_NAMESPACE)  # what `load_areas` does after loading
    assert client.get(f"{URL}{city.pk}/").json()["name"] == "changed"


@pytest.mark.django_db
def test_load_areas_refreshes_cached_bodies_in_every_tier(loaded, client_for):
    """A body cached (shared cache and, with Redis, this process's copy) before `load_areas` is
    not served after it."""
    Area.objects.filter(pk=130000).update(name="改过的名字")
    client = client_for(UserFactory())
    assert client.get(f"{URL}130000/").json()["name"] == "改过的名字"
    assert client.get(f"{URL}130000/").json()["name"] == "改过的名字"  # cached now
    call_command("load_areas", "--no-progress")  # restores the GB/T 2260 name
    assert client.get(f"{URL}130000/").json()["name"] == "河北省"


@pytest.mark.django_db
def test_area_unknown_is_404_writes_405_anon_401(client_for, api_client):
    client = client_for(UserFactory())
    assert client.get(f"{URL}1/").status_code == 404
    assert client.post(URL, {"id": 1, "name": "x"}).status_code == 405
    city = CityFactory()
    assert client.put(f"{URL}{city.pk}/", {"name": "x"}).status_code == 405
    assert client.delete(f"{URL}{city.pk}/").status_code == 405
    assert api_client.get(URL).status_code == 401
