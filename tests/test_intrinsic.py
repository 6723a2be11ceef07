"""Intrinsic dimension: TwoNN and MLE on samples of known dimension, and its place in predict."""

import numpy as np
import pytest

import kernelscale as ks
from kernelscale.errors import DataError
from kernelscale.intrinsic import intrinsic_dimension

# Both estimators are biased at finite n (downwards as d grows); on 1500 points of a low-dimensional set they land
# within about 10% of d. The tolerance is a relative one for that estimation error, not rounding.
DIMENSION_RTOL = 0.12


@pytest.mark.parametrize("d", [2, 5])
def test_linear_subspace(d):
    rng = np.random.default_rng(d)
    basis = np.linalg.qr(rng.standard_normal((40, d)))[0]  # a random d-dimensional subspace of R^40
    x = rng.standard_normal((1500, d)) @ basis.T
    estimate = intrinsic_dimension(x)
    assert estimate.twonn == pytest.approx(d, rel=DIMENSION_RTOL)
    assert estimate.mle == pytest.approx(d, rel=DIMENSION_RTOL)
    assert estimate.alpha_manifold_twonn == pytest.approx(4 / estimate.twonn)


@pytest.mark.parametrize("spec, d", [("sphere:dim=4", 3), ("teacher:dim=3", 3)])
def test_sphere_and_teacher_manifold(spec, d):
    x = ks.load_dataset(spec, n_samples=1500, seed=1).x  # S^3 in R^4; a 3-dimensional curved manifold in R^32
    estimate = intrinsic_dimension(x)
    assert estimate.twonn == pytest.approx(d, rel=DIMENSION_RTOL)
    assert estimate.mle == pytest.approx(d, rel=DIMENSION_RTOL)


def test_duplicates_are_dropped_and_bad_input_refused():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((200, 3))
    assert intrinsic_dimension(np.vstack([x, x[:50]])).n == 200
    with pytest.raises(DataError, match="at least 60 distinct"):
        intrinsic_dimension(x[:30])
    x[3, 1] = np.nan
    with pytest.raises(DataError, match="NaN"):
        intrinsic_dimension(x)


def test_a_large_sample_is_estimated_on_a_stated_subsample_with_progress():
    """Past MAX_POINTS distinct points the exact search (n^2 F) runs on a random subsample, which the result states;
    the estimate stays that of the manifold, and progress reports the rows searched."""
    x = ks.load_dataset("sphere:dim=4", n_samples=30_000, seed=1).x
    reports = []
    estimate = intrinsic_dimension(x, max_points=3000, progress=lambda *report: reports.append(report))
    assert (estimate.n, estimate.subsampled_from) == (3000, 30_000)
    assert estimate.twonn == pytest.approx(3, rel=DIMENSION_RTOL)
    assert reports[-1] == ("intrinsic dimension", 3000, 3000) and len(reports) > 1
    assert intrinsic_dimension(x[:1500]).subsampled_from is None
    assert intrinsic_dimension(x, max_points=3000, seed=1).twonn != estimate.twonn  # another draw


def test_predict_reports_the_manifold_estimate_beside_alpha_K():
    p = ks.predict("fc:depth=2", "sphere:dim=3", n_samples=600, kernel="nngp")
    d = p.intrinsic_dimension
    assert d is not None and d.twonn == pytest.approx(2, rel=DIMENSION_RTOL)
    assert "not a check" in d.note
    data = p.to_dict()["intrinsic_dimension"]
    assert data["alpha_manifold_mle"] == pytest.approx(4 / data["mle"])
    assert ks.Prediction.from_json(p.to_json()) == p
    assert 0 < p.intrinsic_seconds < p.seconds and p.to_dict()["intrinsic_seconds"] == p.intrinsic_seconds
    without = ks.predict("fc:depth=2", "sphere:dim=3", n_samples=600, kernel="nngp", intrinsic=False)
    assert without.intrinsic_dimension is None and without.intrinsic_seconds == 0.0


@pytest.mark.parametrize("spec", ["digits", "sphere:dim=5", "teacher:dim=3"])
def test_estimators_agree_with_scikit_dimension(spec):
    """The two formulas, written here on a NumPy k-NN search, against scikit-dimension (a test-only dependency) on the
    same points: equal to 1e-10 relative. The neighbour distances equal scikit-learn's to 1e-11 (its rounding for
    close points reached 1.5e-12; ours are computed as |a - b|)."""
    skdim = pytest.importorskip("skdim")
    from sklearn.neighbors import NearestNeighbors

    from kernelscale.intrinsic import MLE_NEIGHBORS, nearest_neighbor_distances

    x = np.unique(ks.load_dataset(spec, n_samples=800, seed=2).x.reshape(800, -1), axis=0)
    distances, indices = NearestNeighbors(n_neighbors=MLE_NEIGHBORS).fit(x).kneighbors()
    np.testing.assert_allclose(nearest_neighbor_distances(x, MLE_NEIGHBORS), distances, rtol=1e-11)
    ours = intrinsic_dimension(x)
    assert ours.twonn == pytest.approx(skdim.id.TwoNN(dist=True).fit(distances[:, :2]).dimension_, rel=1e-10)
    reference = skdim.id.MLE().fit(x, precomputed_knn_arrays=(distances, indices)).dimension_
    assert ours.mle == pytest.approx(reference, rel=1e-10)
