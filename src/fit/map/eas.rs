//! Evolution-associated spectra of the sequential scheme 1 -> 2 -> ... -> N
//! (rates k_1 > k_2 > ... : the lifetimes sorted shortest first, species i
//! decaying with k_i into i + 1), from the decay-associated spectra.
//!
//! With c_1(0) = 1 and dc_i/dt = k_(i-1) c_(i-1) - k_i c_i, species i's
//! concentration is c_i(t) = sum_{j<=i} b_ji exp(-k_j t) with
//!
//! b_11 = 1,  b_ji = k_(i-1) b_j(i-1) / (k_i - k_j) (j < i),
//! b_ii = -sum_{j<i} b_ji,
//!
//! (the IRF convolves every exponential alike), so the signal sum_i EAS_i
//! c_i equals sum_j DAS_j exp(-k_j t) with DAS_j = sum_{i>=j} b_ji EAS_i:
//! EAS = B^-1 DAS per wavelength, and Cov(EAS) = B^-1 Cov(DAS) B^-T. The
//! rates are held at their fitted values in that error (their own
//! uncertainty is not propagated).

use nalgebra::DMatrix;

/// Spectra per species and wavelength (`[i][l]`) with their errors.
pub(crate) type Spectra = (Vec<Vec<f64>>, Vec<Vec<f64>>);

/// B (N x N): `b[(j, i)]` = b_ji, zero below the diagonal (i < j); None
/// when two rates are equal (the scheme is then degenerate).
pub(crate) fn sequential_matrix(rates: &[f64]) -> Option<DMatrix<f64>> {
    let n = rates.len();
    let mut b = DMatrix::zeros(n, n);
    if n == 0 {
        return Some(b);
    }
    b[(0, 0)] = 1.0;
    for i in 1..n {
        let mut sum = 0.0;
        for j in 0..i {
            let d = rates[i] - rates[j];
            if d == 0.0 {
                return None;
            }
            b[(j, i)] = rates[i - 1] * b[(j, i - 1)] / d;
            sum += b[(j, i)];
        }
        b[(i, i)] = -sum;
    }
    b.iter().all(|v| v.is_finite()).then_some(b)
}

/// EAS and their standard errors at every wavelength from the DAS and
/// their covariance (`cov[l]`, N x N over the DAS columns).
pub(crate) fn evolution_associated(
    rates: &[f64],
    das: &[Vec<f64>],
    cov: &[DMatrix<f64>],
) -> Option<Spectra> {
    let n = rates.len();
    let minv = sequential_matrix(rates)?.try_inverse()?;
    let nl = das.first().map_or(0, Vec::len);
    let mut eas = vec![vec![0.0; nl]; n];
    let mut err = vec![vec![0.0; nl]; n];
    for l in 0..nl {
        let d = nalgebra::DVector::from_fn(n, |j, _| das[j][l]);
        let e = &minv * d;
        let c = &minv * &cov[l] * minv.transpose();
        for i in 0..n {
            eas[i][l] = e[i];
            err[i][l] = c[(i, i)].max(0.0).sqrt();
        }
    }
    Some((eas, err))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The concentrations from B solve the scheme's rate equations (by
    /// central differences) and start at c = (1, 0, 0).
    #[test]
    fn concentrations_solve_the_sequential_rate_equations() {
        let k = [2.0, 0.3, 0.05];
        let b = sequential_matrix(&k).unwrap();
        let c = |i: usize, t: f64| (0..=i).map(|j| b[(j, i)] * (-k[j] * t).exp()).sum::<f64>();
        assert!((c(0, 0.0) - 1.0).abs() < 1e-15);
        assert!(c(1, 0.0).abs() < 1e-14 && c(2, 0.0).abs() < 1e-14);
        for t in [0.1, 1.0, 7.0, 40.0] {
            let h = 1e-5;
            for i in 0..3 {
                let dc = (c(i, t + h) - c(i, t - h)) / (2.0 * h);
                let feed = if i > 0 { k[i - 1] * c(i - 1, t) } else { 0.0 };
                assert!(
                    (dc - (feed - k[i] * c(i, t))).abs() < 1e-8,
                    "species {i} at {t}"
                );
            }
        }
    }

    /// DAS made from known EAS give those EAS back, and a diagonal DAS
    /// covariance maps to the EAS errors of B^-1 C B^-T.
    #[test]
    fn eas_round_trip_and_errors() {
        let k = [5.0, 0.5, 0.02];
        let b = sequential_matrix(&k).unwrap();
        let eas_true = [vec![1.0, -0.5], vec![0.3, 0.8], vec![-0.2, 0.1]];
        let das: Vec<Vec<f64>> = (0..3)
            .map(|j| {
                (0..2)
                    .map(|l| (0..3).map(|i| b[(j, i)] * eas_true[i][l]).sum())
                    .collect()
            })
            .collect();
        let cov = vec![DMatrix::from_diagonal_element(3, 3, 1e-4); 2];
        let (eas, err) = evolution_associated(&k, &das, &cov).unwrap();
        for i in 0..3 {
            for l in 0..2 {
                assert!((eas[i][l] - eas_true[i][l]).abs() < 1e-12);
            }
        }
        // the last species' EAS is DAS_3 / b_33, so its error is 1e-2 / |b_33|
        assert!((err[2][0] - 1e-2 / b[(2, 2)].abs()).abs() < 1e-14);
        assert!(sequential_matrix(&[1.0, 1.0]).is_none());
    }
}
