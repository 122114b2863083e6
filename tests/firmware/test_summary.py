"""The firmware trade-off plot's Pareto front, and the summary's entries for the compared methods' networks."""

from autopruner.firmware.summary import FILE_KEYS, entries_from_models, network_products, pareto_front


def _row(model: str, luts: float, rejection: float) -> dict:
    return {"model": model, "lut_equivalents": luts, "rejection_50_firmware": rejection}


def test_pareto_front_keeps_only_rows_no_cheaper_row_beats():
    rows = [
        _row("budget50_retrained", 130_000.0, 380.0),
        _row("budget5_reduced", 3_200.0, 10.0),
        _row("budget10_retrained", 11_000.0, 357.0),
        _row("budget10_reduced", 10_800.0, 55.0),
        _row("budget30_reduced", 56_000.0, 328.0),  # dearer than budget10_retrained and worse: dominated
        _row("baseline", 386_000.0, 347.0),  # dominated by budget50_retrained
    ]
    front = pareto_front(rows)
    assert [r["model"] for r in front] == ["budget5_reduced", "budget10_reduced", "budget10_retrained",
                                          "budget50_retrained"]


def test_pareto_front_of_equal_costs_keeps_the_better_row():
    rows = [_row("a", 100.0, 5.0), _row("b", 100.0, 9.0), _row("c", 200.0, 7.0)]
    assert [r["model"] for r in pareto_front(rows)] == ["b"]
    assert pareto_front([]) == []


def test_a_compared_methods_network_is_an_entry_of_its_own_kind():
    files = {key: [f"{key}.json"] for key in FILE_KEYS}
    (entry,) = entries_from_models([{"variant": "budget5", "kind": "magnitude"}], files)
    assert (entry.name, entry.kind, entry.budget) == ("budget5_magnitude", "magnitude", 5)
    assert entry.da_report == "da_reports.json"


def test_network_products_sum_the_layers_and_are_unknown_without_them():
    report = {"layers": [{"layer": "dense_0", "products": 155}, {"layer": "dense_1", "products": 12},
                         {"layer": "dense_4", "products": 1}]}
    assert network_products(report) == 168
    assert network_products({"LUT": 100}) is None  # a vendor report lists no layers
    assert network_products({"layers": [{"layer": "dense_0"}]}) is None
