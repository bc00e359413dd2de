"""The dashboard query: accent- and case-blind search, status counts, paging in SQL."""

import pytest

from messagerie.models.consultations.dashboard import dashboard_page
from messagerie.models.consultations.views import DashboardQuery
from messagerie.models.store.enums import ConsultationStatus, RegisterKind
from tests.helpers.factories import add_consultations, add_lot, add_register_entries, paris

S = ConsultationStatus


@pytest.fixture
def dataset(store):
    rows = [
        ("2025VINS", "Achat de vins d'Alsace", S.DECISION, paris(2025, 12, 25, 17, 30)),
        ("202601", "Achat de chocolats", S.OPENING_ANALYSIS, paris(2026, 2, 14)),
        ("ELAB-01", "Élaboration du schéma directeur", S.DRAFTING, paris(2027, 1, 5)),
        ("CREM-02", "Fourniture de Crémant d'Alsace", S.OPEN, paris(2026, 12, 18)),
    ]
    rows += [
        (f"MAPA-{n:03d}", f"Travaux de voirie n°{n}", S.OPEN, paris(2026, 12, 1 + n % 28))
        for n in range(1, 22)
    ]
    ids = add_consultations(store, rows)
    add_lot(store, ids[0], 0, "Pinot gris")
    add_lot(store, ids[0], 1, "Crémant")
    add_register_entries(
        store,
        ids[0],
        [RegisterKind.WITHDRAWAL, RegisterKind.WITHDRAWAL, RegisterKind.QUESTION],
        paris(2025, 8, 22, 9, 31),
    )
    return store


def references(page):
    return [item.identity.reference for item in page.items]


def test_search_ignores_case_and_accents(dataset):
    assert references(dashboard_page(dataset, DashboardQuery(text="creme"))) == ["CREM-02"]
    assert references(dashboard_page(dataset, DashboardQuery(text="elaboration"))) == ["ELAB-01"]
    assert references(dashboard_page(dataset, DashboardQuery(text="ÉLABORATION SCHEMA"))) == [
        "ELAB-01"
    ]


def test_search_covers_reference_and_purchasing_entity(dataset):
    assert references(dashboard_page(dataset, DashboardQuery(text="2025vins"))) == ["2025VINS"]
    assert dashboard_page(dataset, DashboardQuery(text="commande publique")).total == 25


def test_search_treats_like_wildcards_as_text(dataset):
    assert dashboard_page(dataset, DashboardQuery(text="%")).total == 0
    assert dashboard_page(dataset, DashboardQuery(text="_")).total == 0


def test_status_counts_follow_the_search_and_filter_the_results(dataset):
    page = dashboard_page(dataset, DashboardQuery())
    assert page.total == 25
    assert page.status_counts[S.OPEN] == 22
    assert page.status_counts[S.AWAITING_VALIDATION] == 0
    filtered = dashboard_page(dataset, DashboardQuery(status=S.DECISION))
    assert references(filtered) == ["2025VINS"]
    assert filtered.status_counts[S.OPEN] == 22  # the chart still shows every status
    searched = dashboard_page(dataset, DashboardQuery(text="alsace"))
    assert searched.total == 25  # the organisation's name matches everything here
    assert dashboard_page(dataset, DashboardQuery(text="vins")).status_counts[S.OPEN] == 0


def test_pages_of_10_and_20_sorted_by_deadline(dataset):
    first = dashboard_page(dataset, DashboardQuery(per_page=10))
    assert (first.page_count, len(first.items)) == (3, 10)
    assert first.items[0].identity.reference == "ELAB-01"  # latest deadline first
    deadlines = [item.bid_deadline for item in first.items]
    assert deadlines == sorted(deadlines, reverse=True)
    last = dashboard_page(dataset, DashboardQuery(per_page=10, page=3))
    assert len(last.items) == 5
    assert references(last)[-1] == "2025VINS"
    twenty = dashboard_page(dataset, DashboardQuery(per_page=20, page=2))
    assert (twenty.page_count, len(twenty.items)) == (2, 5)
    seen = (
        references(first)
        + references(dashboard_page(dataset, DashboardQuery(page=2)))
        + references(last)
    )
    assert len(set(seen)) == 25


def test_a_page_beyond_the_last_is_brought_back(dataset):
    page = dashboard_page(dataset, DashboardQuery(page=99))
    assert page.query.page == 3
    assert dashboard_page(dataset, DashboardQuery(text="introuvable", page=4)).query.page == 1


def test_summary_carries_lots_registers_and_entity(dataset):
    (wines,) = dashboard_page(dataset, DashboardQuery(text="vins")).items
    assert wines.lots == ("Lot n°0 - Pinot gris", "Lot n°1 - Crémant")
    assert (wines.withdrawals, wines.questions, wines.deposits) == (2, 1, 0)
    assert wines.identity.entity == "Direction de la commande publique"
    assert wines.identity.organisation == "Collectivité européenne d'Alsace"
    assert wines.bid_deadline == paris(2025, 12, 25, 17, 30)


def test_query_changes_restart_at_page_one():
    query = DashboardQuery(page=4)
    assert query.but(text="vin").page == 1
    assert query.but(status=S.OPEN).page == 1
    assert query.but(per_page=20).page == 1
    assert query.but(page=5).page == 5
