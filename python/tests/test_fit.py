"""spinfit's Python front against its command line, on the same input.

The CLI binary is the one cargo built (SPINFIT_BIN, default
target/debug/spinfit); the data are simulated by it into a temporary folder.
"""
import json
import os
import subprocess
import threading
import time

import numpy as np
import pytest

import spinfit

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("SPINFIT_BIN", os.path.join(ROOT, "target", "debug", "spinfit"))


def cli(*args):
    r = subprocess.run([BIN, *args], capture_output=True, text=True)
    assert r.returncode in (0, 3), r.stderr
    return r.stdout


def load(path):
    names = None
    rows = []
    for line in open(path):
        if line.startswith("#"):
            continue
        if names is None:
            names = line.strip().split(",")
            continue
        rows.append([float(v) for v in line.split(",")])
    a = np.array(rows)
    return {n: a[:, i] for i, n in enumerate(names)}


@pytest.fixture(scope="module")
def tr(tmp_path_factory):
    p = str(tmp_path_factory.mktemp("tr") / "tr.csv")
    cli("simulate", "tr", "--tau", "7.76ps", "--seed", "3", "--out", p)
    return p, load(p)


@pytest.fixture(scope="module")
def trfe(tmp_path_factory):
    p = str(tmp_path_factory.mktemp("trfe") / "trfe.csv")
    cli("simulate", "trfe", "--field", "0.5T", "--carrier", "1.41:150ps:1", "--seed", "4", "--out", p)
    return p, load(p)


def test_tr_fit_equals_the_command_lines(tr):
    path, d = tr
    ours = json.loads(cli("fit", "tr", path, "--json"))
    r = spinfit.fit_tr(d["delay_ps"] if "delay_ps" in d else d["delay"], sc=d["SC"], cc=d["CC"])
    assert r.success == ours["success"]
    assert set(r.params) == set(ours["parameters"])
    for name, p in ours["parameters"].items():
        assert r.params[name].value == pytest.approx(p["value"], rel=1e-9, abs=1e-12), name
        if p["stderr"] is not None:
            assert r.params[name].stderr == pytest.approx(p["stderr"], rel=1e-6), name
        assert r.params[name].unit == p["unit"]
    tau = r.results["lifetimes"][0]["tau"]
    assert tau["unit"] == "ps" and abs(tau["value"] - 7.76) < 3 * tau["stderr"]
    assert r.best_fit.shape == r.residual.shape == r.data.shape
    # residual = model - data, as the JSON's statistics are computed
    np.testing.assert_allclose(r.best_fit - r.data, r.residual, atol=1e-12)
    assert np.sum(r.residual**2) == pytest.approx(ours["statistics"]["chisqr"], rel=1e-9)
    assert "[[Variables]]" in r.report() and "tau" in r.report()
    assert "<table>" in r._repr_html_()
    assert r.to_dict()["schema"] == "spinfit.fit/1"


def test_trfe_fit_equals_the_command_lines(trfe):
    path, d = trfe
    ours = json.loads(cli("fit", "trfe", path, "--field", "0.5T", "--json"))
    delay = d["delay_ps"] if "delay_ps" in d else d["delay"]
    sig = [v for k, v in d.items() if k not in ("delay_ps", "delay")][0]
    r = spinfit.fit_trfe(delay, sig, 0.5)
    assert set(r.params) == set(ours["parameters"])
    for name, p in ours["parameters"].items():
        assert r.params[name].value == pytest.approx(p["value"], rel=1e-9, abs=1e-12), name


def test_shapes_dtypes_and_channels_are_checked(tr):
    _, d = tr
    delay = d["delay_ps"] if "delay_ps" in d else d["delay"]
    with pytest.raises(ValueError, match="1-D"):
        spinfit.fit_tr(np.zeros((3, 4)), signal=np.zeros((3, 4)))
    with pytest.raises(ValueError, match="real numbers"):
        spinfit.fit_tr(delay, signal=np.array(["a"] * len(delay)))
    with pytest.raises(ValueError, match="values for"):
        spinfit.fit_tr(delay, signal=d["SC"][:-1])
    with pytest.raises(ValueError, match="sc= and cc="):
        spinfit.fit_tr(delay, sc=d["SC"])
    with pytest.raises(ValueError, match="exponentials"):
        spinfit.fit_tr(delay, sc=d["SC"], cc=d["CC"], exponentials=7)
    with pytest.raises(ValueError, match="field"):
        spinfit.fit_trfe(delay, d["SC"], 1e-300)
    # NaN or infinity named by array and element, as a file's `nan` is
    holed = d["SC"].copy()
    holed[7] = np.nan
    with pytest.raises(ValueError, match="sc: element 7 is NaN"):
        spinfit.fit_tr(delay, sc=holed, cc=d["CC"])
    with pytest.raises(ValueError, match="delay_ps: element 0 is inf"):
        spinfit.fit_tr(np.r_[np.inf, delay[1:]], signal=d["SC"])
    # integer arrays are accepted and converted
    r = spinfit.fit_tr(delay, sc=d["SC"], cc=d["CC"])
    assert r.params["tau"].value > 0


def test_a_dead_channel_raises_with_the_command_lines_message(tr):
    _, d = tr
    delay = d["delay_ps"] if "delay_ps" in d else d["delay"]
    with pytest.raises(ValueError, match="(?i)dead|constant"):
        spinfit.fit_tr(delay, sc=d["SC"], cc=np.zeros_like(d["CC"]))


def test_the_gil_is_released_during_a_fit(tmp_path):
    # one long fit in a thread; the main thread keeps running Python
    # meanwhile: no gap between its ticks comes near the fit's duration
    p = str(tmp_path / "big.csv")
    cli("simulate", "tr", "--tau", "7.76ps", "--points", "40000", "--seed", "5", "--out", p)
    d = load(p)
    delay = d["delay_ps"] if "delay_ps" in d else d["delay"]
    t0 = time.perf_counter()
    spinfit.fit_tr(delay, sc=d["SC"], cc=d["CC"])
    alone = time.perf_counter() - t0
    done = threading.Event()
    t = threading.Thread(target=lambda: (spinfit.fit_tr(delay, sc=d["SC"], cc=d["CC"]), done.set()))
    ticks = [time.perf_counter()]
    t.start()
    while not done.is_set():
        sum(range(200))
        ticks.append(time.perf_counter())
    t.join()
    gap = max(np.diff(ticks))
    assert alone > 0.02, f"the fit took {alone:.3f} s: too short to tell"
    assert gap < alone / 3, f"longest pause of the main thread {gap:.3f} s, fit {alone:.3f} s"


def test_read_scan_gives_the_command_lines_fit_and_units_are_accepted(tr, trfe):
    path, d = tr
    s = spinfit.read_scan(path)
    assert s.kind == "tr" and s.sc is not None and len(s.delay) == len(d["SC"])
    assert s.metadata["synthetic"] == "true"
    ours = json.loads(cli("fit", "tr", path, "--json", "--from", "-1ps"))
    r = s.fit(fit_from_ps="-1ps")
    assert r.params["tau"].value == pytest.approx(ours["parameters"]["tau"]["value"], rel=1e-9)
    assert spinfit.fit_tr(s.delay, sc=s.sc, cc=s.cc, fit_from_ps=-1.0).params["tau"].value == \
        pytest.approx(r.params["tau"].value, rel=1e-12)
    tpath, _ = trfe
    t = spinfit.read_scan(tpath, kind="trfe")
    # the field from the file's header, as the command line takes it
    ours = json.loads(cli("fit", "trfe", tpath, "--json"))
    assert t.fit().to_dict()["parameters"] == ours["parameters"]
    # arrays without a field: omega and T2* only, no |g|
    nofield = spinfit.fit_trfe(t.delay, t.signal, None)
    assert nofield.components and all(c.g.value is None for c in nofield.components)
    a = spinfit.fit_trfe(t.delay, t.signal, "500mT")
    b = spinfit.fit_trfe(t.delay, t.signal, 0.5)
    assert a.params.keys() == b.params.keys()
    with pytest.raises(ValueError, match="(?i)field|unit"):
        spinfit.fit_trfe(t.delay, t.signal, "500 apples")
    with pytest.raises(ValueError):
        spinfit.read_scan(path + ".missing")


def test_gfactor_of_a_field_series_equals_the_command_lines(tmp_path):
    for mt in (200, 400, 600, 800):
        cli("simulate", "trfe", "--field", f"{mt}mT", "--carrier", "1.41:150ps:1",
            "--seed", str(mt), "--out", str(tmp_path / f"trfe_{mt}mT.csv"))
    ours = json.loads(cli("gfactor", str(tmp_path), "--json"))
    theirs = spinfit.gfactor(tmp_path, min_field="100mT")
    assert theirs == ours
    g = [c for c in theirs["carriers"] if c.get("g")][0]["g"]
    assert abs(g["value"] - 1.41) < 3 * g["stderr"] + 1e-3
    with pytest.raises(ValueError, match="larger"):
        spinfit.gfactor(tmp_path, larger="proton")


def test_append_adds_one_row_with_provenance_and_refuses_synthetic_by_default(tmp_path, tr):
    sheet = os.path.join(ROOT, "fixtures", "srr", "data.xlsx")
    ds = str(tmp_path / "d.csv")
    cli("dataset", "import", sheet, "--out", ds)
    rows = lambda: sum(1 for _ in open(ds)) - 1
    before = rows()
    path, _ = tr
    # read from its file, the fit keeps the header's synthetic mark
    r = spinfit.read_scan(path).fit()
    with pytest.raises(ValueError, match="SYNTHETIC"):
        spinfit.append(ds, r, "(APD)PbI4", date="2026-11-23")
    assert spinfit.append(ds, r, "(APD)PbI4", date="2026-11-23", allow_synthetic=True)
    assert not spinfit.append(ds, r, "(APD)PbI4", date="2026-11-23", allow_synthetic=True)
    assert rows() == before + 1
    last = open(ds).read().splitlines()[-1]
    rate = r.results["lifetimes"][0]["rate"]["value"]
    assert "SYNTHETIC" in last and f"{rate}"[:8] in last
    with pytest.raises(ValueError, match="no row of compound"):
        spinfit.append(ds, r, "Unobtainium", date="2026-11-23", allow_synthetic=True)


def nrows(table):
    """Rows of a DataFrame, or of the dict of columns given without pandas."""
    return len(table["id"]) if isinstance(table, dict) else len(table)


def _without(d, *keys):
    return {k: v for k, v in d.items() if k not in keys}


def test_ml_cv_equals_the_command_lines(tmp_path):
    sheet = os.path.join(ROOT, "fixtures", "srr", "data.xlsx")
    ds = str(tmp_path / "d.csv")
    cli("dataset", "import", sheet, "--out", ds)
    f = "mw_g_per_mol,e_homo_eV,e_lumo_eV,n_layers"
    for model, cv in [("ols", "loo"), ("rf:n_trees=30", "kfold:5"), ("svr", "shuffle:4:0.25")]:
        ours = json.loads(cli("ml", "cv", ds, "--model", model, "--cv", cv, "--features", f, "--json"))
        theirs = spinfit.ml_cv(ds, model=model, cv=cv, features=f)
        # the same document, wall time apart
        assert _without(theirs, "validation_seconds", "table", "held_out", "in_sample") == \
            _without(ours, "validation_seconds"), (model, cv)
        held = {m["name"]: m["value"] for m in ours["metrics"] if m["kind"] == "held-out"}
        assert theirs["held_out"] == held
        assert nrows(theirs["table"]) == ours["rows"]
    a = spinfit.ml_cv(ds, model="rf:n_trees=20", cv="kfold:5", features=f, cv_seed=1)
    b = json.loads(cli("ml", "cv", ds, "--model", "rf:n_trees=20", "--cv", "kfold:5", "--features", f,
                       "--cv-seed", "1", "--json"))
    assert a["predictions"] == b["predictions"]
    r = spinfit.ml_cv(ds, model="ols", cv="loo", features=f, refit=False)
    assert r["in_sample"] is None
    with pytest.raises(ValueError, match="n_trees"):
        spinfit.ml_cv(ds, model="rf:n_trees=0", features=f)
    with pytest.raises(ValueError, match="cv"):
        spinfit.ml_cv(ds, cv="sometimes", features=f)


def test_train_explain_and_screen_equal_the_command_lines(tmp_path):
    sheet = os.path.join(ROOT, "fixtures", "srr", "data.xlsx")
    ds = str(tmp_path / "d.csv")
    cli("dataset", "import", sheet, "--out", ds)
    f = "mw_g_per_mol,e_homo_eV,e_lumo_eV,polarisability_bohr3"
    m = str(tmp_path / "gbt.json")
    saved = spinfit.train(ds, m, model="gbt:n_estimators=30", features=f)
    assert saved["schema"] == "spinfit.model/1" and os.path.exists(m)
    ours = json.loads(cli("ml", "explain", m, "--background", "20", "--json"))
    theirs = spinfit.explain(m, background=20)
    assert _without(theirs, "explain_seconds", "table") == _without(ours, "explain_seconds")
    assert nrows(theirs["table"]) == 52 and list(theirs["table"])[1:] == theirs["features"]
    cand = tmp_path / "cand.csv"
    cand.write_text("compound,mw_g_per_mol,e_homo_eV,e_lumo_eV,polarisability_bohr3\n"
                    "A,60,-15,-3,30\nB,300,-15,-3,30\nC,150,-14,-3,60\n")
    ours = json.loads(cli("ml", "screen", m, "--candidates", str(cand), "--members", "6", "--json"))
    theirs = spinfit.screen(m, cand, members=6)
    assert _without(theirs, "table", "left_out") == ours
    rates = [c["rate"]["value"] for c in theirs["candidates"]]
    assert rates == sorted(rates)
    with pytest.raises(ValueError, match="saved model fixes"):
        spinfit.explain(m, model="rf")


def test_dataset_check_equals_the_command_lines(tmp_path):
    sheet = os.path.join(ROOT, "fixtures", "srr", "data.xlsx")
    ds = str(tmp_path / "d.csv")
    cli("dataset", "import", sheet, "--out", ds)
    r = subprocess.run([BIN, "dataset", "check", ds, "--json"], capture_output=True, text=True)
    assert spinfit.dataset_check(ds) == json.loads(r.stdout)
    with pytest.raises(ValueError, match="missing"):
        spinfit.dataset_check(str(tmp_path / "missing.csv"))


def test_session_and_gspectrum_equal_the_command_lines(tmp_path):
    data = os.path.join(ROOT, "examples", "data")
    out = tmp_path / "out"
    r = subprocess.run([BIN, "session", data, "--out", str(out)], capture_output=True, text=True)
    assert r.returncode in (0, 1), r.stderr
    theirs = spinfit.session(data, out=str(tmp_path / "py-out"))
    ours = json.load(open(out / "results.json"))
    # the global fit of every series, as --global gives it
    glob = spinfit.session(data, global_fit=True)
    assert all(s["global"] is not None for s in glob["series"])
    assert all(s["global"] is None for s in theirs["series"])
    # results.json: the single fits, then every series' traces
    traces = [t["fit"] for ser in theirs["series"] for t in ser["traces"]]
    assert theirs["fits"] + traces == ours and len(theirs["fits"]) >= 2
    assert len(theirs["series"]) == len(list(out.glob("gfactor_*.json")))
    for i, s in enumerate(theirs["series"]):
        assert s == json.load(open(out / f"gfactor_{i + 1:02}.json"))
    assert (tmp_path / "py-out" / "summary.md").exists()
    files = sorted(str(p) for p in out.glob("gfactor_*.json"))
    cl = json.loads(cli("gspectrum", *files, "--json", "--sign-h", "-"))
    py = spinfit.gspectrum(files, sign_h="-")
    assert _without(py, "table") == cl
    # from the dicts themselves, the rows are the same but for their names
    by_dict = spinfit.gspectrum(theirs["series"], sign_h="-")
    assert [r["g_bx"] for r in by_dict["rows"]] == [r["g_bx"] for r in cl["rows"]]
    with pytest.raises(ValueError, match="sign_e"):
        spinfit.gspectrum(files, sign_e="up")
    junk = tmp_path / "junk.json"
    junk.write_text("{not json")
    with pytest.raises(ValueError, match="junk.json.*not JSON"):
        spinfit.gspectrum([junk])
    with pytest.raises(ValueError, match="nowhere.json"):
        spinfit.gspectrum([tmp_path / "nowhere.json"])
    with pytest.raises(ValueError, match="kind"):
        spinfit.session(data, kind="maybe")
    with pytest.raises(ValueError, match="colour"):
        spinfit.session(data, colour="red")


def test_fit_settings_pass_through_and_results_are_typed(tr, trfe):
    path, d = tr
    delay = d["delay_ps"] if "delay_ps" in d else d["delay"]
    ours = json.loads(cli("fit", "tr", path, "--irf-fwhm", "0.2ps", "--baseline", "none", "--json"))
    r = spinfit.fit_tr(delay, sc=d["SC"], cc=d["CC"], irf_fwhm=np.float64(0.2), baseline="none")
    for name, p in ours["parameters"].items():
        assert r.params[name].value == pytest.approx(p["value"], rel=1e-9, abs=1e-12), name
    # the IRF width fixed as asked, the baseline left out
    assert not r.params["irf_fwhm"].vary and r.params["irf_fwhm"].value == 0.2
    assert "offset" not in r.params and "step" not in r.params
    (lt,) = r.lifetimes
    assert lt.tau.unit == "ps" and lt.rate.unit == "ps^-1"
    assert lt.rate.value == pytest.approx(1 / lt.tau.value, rel=1e-9)
    with pytest.raises(ValueError, match="baseline"):
        spinfit.fit_tr(delay, sc=d["SC"], cc=d["CC"], baseline="sometimes")
    with pytest.raises(ValueError, match="colour"):
        spinfit.fit_tr(delay, sc=d["SC"], cc=d["CC"], colour="red")
    tpath, t = trfe
    tdelay = t["delay_ps"] if "delay_ps" in t else t["delay"]
    sig = [v for k, v in t.items() if k not in ("delay_ps", "delay")][0]
    f = spinfit.fit_trfe(tdelay, sig, "0.5T", components=np.int64(1), phase="on")
    ours = json.loads(cli("fit", "trfe", tpath, "--field", "0.5T", "--components", "1", "--phase", "on",
                          "--json"))
    (c,) = f.components
    want = ours["results"]["components"][0]
    assert (c.omega.value, c.omega.stderr, c.omega.unit) == \
        (want["omega"]["value"], want["omega"]["stderr"], want["omega"]["unit"])
    assert c.g.value == pytest.approx(want["g"]["value"], rel=1e-12)
    assert abs(c.g.value - 1.41) < 3 * c.g.stderr + 1e-3


def test_fit_files_fits_a_batch_in_parallel_and_lists_failures(tmp_path, tr):
    path, _ = tr
    bad = tmp_path / "bad.csv"
    bad.write_text("delay_ps,SC,CC\n1,2\n")
    ours = json.loads(cli("fit", "tr", path, "--json", "--irf-fwhm", "0.2ps"))
    fits, failures = spinfit.fit_files([path, bad, path], irf_fwhm="0.2ps")
    assert len(fits) == 2 and [f for f, _ in failures] == [str(bad)]
    assert "bad.csv" in failures[0][0] and failures[0][1]
    for r in fits:
        assert r.to_dict() == ours
    with pytest.raises(ValueError, match="kind"):
        spinfit.fit_files(path, kind="ir")


def test_plot_draws_data_fit_errors_and_the_synthetic_mark(tr):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    path, _ = tr
    r = spinfit.read_scan(path).fit()
    fig = r.plot()
    top, bottom = fig.axes
    labels = [t.get_text() for t in top.get_legend().get_texts()]
    assert any("tau = " in l and "+/-" in l and "ps" in l for l in labels), labels
    assert "SYNTHETIC" in [t.get_text() for t in top.texts]
    assert bottom.get_ylabel() == "fit - data" and "ps" in bottom.get_xlabel()
    np.testing.assert_allclose(bottom.lines[0].get_ydata(), r.residual)
    assert top.get_xscale() == "symlog"


def test_predict_equals_the_command_lines(tmp_path):
    sheet = os.path.join(ROOT, "fixtures", "srr", "data.xlsx")
    ds = str(tmp_path / "d.csv")
    cli("dataset", "import", sheet, "--out", ds)
    cand = tmp_path / "cand.csv"
    cand.write_text("compound,mw_g_per_mol,e_homo_eV,e_lumo_eV,polarisability_bohr3\n"
                    "A,60,-15,-3,30\nB,300,-15,-3,30\n")
    f = "mw_g_per_mol,e_homo_eV,e_lumo_eV,polarisability_bohr3"
    ours = json.loads(cli("ml", "predict", ds, "--candidates", str(cand), "--features", f,
                          "--model", "ols", "--members", "8", "--vary", "e_homo_eV=-15,-14", "--json"))
    theirs = spinfit.predict(ds, cand, model="ols", features=f, members=8, vary="e_homo_eV=-15,-14")
    assert _without(theirs, "table", "left_out") == ours
    assert [c["id"] for c in theirs["candidates"]] == [c["id"] for c in ours["candidates"]]
    for a, b in zip(theirs["candidates"], ours["candidates"]):
        assert a["rate"]["value"] == pytest.approx(b["rate"]["value"], rel=1e-12)
        assert a["rate"]["stderr"] == pytest.approx(b["rate"]["stderr"], rel=1e-12)
        assert [o["feature"] for o in a["out_of_range"]] == [o["feature"] for o in b["out_of_range"]]
    with pytest.raises(ValueError, match="vary"):
        spinfit.predict(ds, cand, model="ols", features=f, vary="colour=1,2")


def read_glotaran(path):
    """A Glotaran 'Time explicit' file as (delays, wavelengths, data)."""
    lines = open(path).read().splitlines()
    t = np.array(lines[4].split(), dtype=float)
    rows = np.array([l.split() for l in lines[5:] if l.strip()], dtype=float)
    return t, rows[:, 0], rows[:, 1:]


def test_fit_global_equals_the_cli_and_recovers_the_truth(tmp_path):
    path = tmp_path / "map.ascii"
    cli("simulate", "map", "--tau", "0.6ps", "--tau", "9ps", "--chirp", "0.2", "--wavelengths", "24",
        "--to", "80ps", "--seed", "3", "--out", str(path))
    t, wl, data = read_glotaran(path)
    r = spinfit.fit_global(data, t, wl, components=2, chirp_order=1, lambda_ref_nm=550.0)
    doc = json.loads(cli("global", str(path), "--components", "2", "--chirp-order", "1",
                         "--lambda-ref", "550nm", "--json", "--no-figures", "--out", str(tmp_path / "out")))
    assert r.status == doc["status"] == "ok"
    for a, b in zip(r.lifetimes, doc["lifetimes"]):
        assert a["value"] == pytest.approx(b["value"], rel=1e-9)
        assert a["stderr"] == pytest.approx(b["stderr"], rel=1e-6)
    for got, truth in zip(r.lifetimes, [0.6, 9.0]):
        assert abs(got["value"] - truth) < 4 * got["stderr"]
    assert r.columns[:3] == ["das_1", "das_2", "offset"]
    assert r.amplitude.shape == (3, 24) and r.eas.shape == (2, 24)
    # residual = fit - data
    assert np.allclose(r.fitted - r.residual, data, atol=1e-12)


def test_fit_global_names_a_bad_point():
    t = np.linspace(-1.0, 30.0, 80)
    wl = np.linspace(450.0, 650.0, 5)
    data = np.exp(-np.clip(t, 0, None) / 3.0)[None, :] * np.ones((5, 1))
    data[3, 10] = np.nan
    with pytest.raises(ValueError, match="600 nm"):
        spinfit.fit_global(data, t, wl, components=1)
    with pytest.raises(ValueError, match="expected shape"):
        spinfit.fit_global(data[:, :5], t, wl)


def test_global_result_to_xarray(tmp_path):
    xr = pytest.importorskip("xarray")
    path = tmp_path / "map.ascii"
    cli("simulate", "map", "--tau", "2ps", "--wavelengths", "8", "--to", "40ps", "--out", str(path))
    t, wl, data = read_glotaran(path)
    ds = spinfit.fit_global(data, t, wl, components=1).to_xarray()
    assert isinstance(ds, xr.Dataset) and ds["das"].shape == (1, 8)
