//! The network as an optimisation problem: forward pass, loss and gradient
//! by back-propagation, batched over rows as matrix products.
//!
//! Layers l = 1..L+1 with sizes s_0 = p, s_1..s_L (hidden), s_{L+1} = 1:
//! A_0 = X (n x p), Z_l = A_{l-1} W_l^T + 1 b_l^T, A_l = act(Z_l) for hidden
//! layers, yhat = Z_{L+1} (identity output).
//! L = 1/(2n) sum_i (yhat_i - y_i)^2 + alpha/(2n) sum_l |W_l|^2
//! (scikit-learn's MLPRegressor loss; biases are not penalised).
//! Back-propagation: D_{L+1} = (yhat - y)/n, grad W_l = D_l^T A_{l-1},
//! grad b_l = 1^T D_l, D_{l-1} = (D_l W_l) .* act'(A_{l-1}).
//!
//! Parameters are one flat vector, per layer W_l (s_l x s_{l-1}, row-major)
//! then b_l. A row-major W_l is the column-major W_l^T, so every product
//! reads the parameters in place.

use super::Activation;
use argmin::core::{CostFunction, Gradient};
use nalgebra::{DMatrix, DMatrixView};

/// Layer sizes from inputs to the one output: [p, s_1, ..., s_L, 1].
pub(super) fn sizes(p: usize, hidden: &[usize]) -> Vec<usize> {
    std::iter::once(p)
        .chain(hidden.iter().copied())
        .chain(std::iter::once(1))
        .collect()
}

/// Number of parameters of a network of these sizes.
pub(super) fn n_params(sizes: &[usize]) -> usize {
    sizes.windows(2).map(|w| w[0] * w[1] + w[1]).sum()
}

/// W_l row-major (s_l x s_{l-1}, flat) and b_l of layer `l` (1-based) in `t`.
pub(super) fn layer_flat<'t>(t: &'t [f64], sizes: &[usize], l: usize) -> (&'t [f64], &'t [f64]) {
    let off: usize = sizes[..l].windows(2).map(|w| w[0] * w[1] + w[1]).sum();
    let (sin, sout) = (sizes[l - 1], sizes[l]);
    let (w, rest) = t[off..].split_at(sin * sout);
    (w, &rest[..sout])
}

/// W_l^T (s_{l-1} x s_l) and b_l of layer `l` (1-based) in `t`.
pub(super) fn layer<'t>(
    t: &'t [f64],
    sizes: &[usize],
    l: usize,
) -> (DMatrixView<'t, f64>, &'t [f64]) {
    let (w, b) = layer_flat(t, sizes, l);
    (DMatrixView::from_slice(w, sizes[l - 1], sizes[l]), b)
}

/// act(v).
#[inline(always)]
pub(super) fn activation(act: Activation, v: f64) -> f64 {
    match act {
        Activation::Relu => v.max(0.0),
        Activation::Tanh => v.tanh(),
        Activation::Logistic => 1.0 / (1.0 + (-v).exp()),
    }
}

fn activate(z: &mut DMatrix<f64>, act: Activation) {
    z.apply(|v| *v = activation(act, *v));
}

/// act'(z) written through a = act(z).
fn derivative(a: f64, act: Activation) -> f64 {
    match act {
        Activation::Relu => f64::from(u8::from(a > 0.0)),
        Activation::Tanh => 1.0 - a * a,
        Activation::Logistic => a * (1.0 - a),
    }
}

/// Z = A W^T + 1 b^T: the columns filled with the biases, then one GEMM
/// adding the product (nalgebra's per-column scalar add cost more than the
/// product for the narrow layers here).
fn affine(a: &DMatrix<f64>, w: DMatrixView<f64>, b: &[f64]) -> DMatrix<f64> {
    let mut z = DMatrix::zeros(a.nrows(), w.ncols());
    for (col, bj) in z.as_mut_slice().chunks_exact_mut(a.nrows().max(1)).zip(b) {
        col.fill(*bj);
    }
    z.gemm(1.0, a, &w, 1.0);
    z
}

/// Activations of every layer (A_0 = x excluded) for rows `x`; the last
/// is the n x 1 output.
pub(super) fn forward(
    t: &[f64],
    sizes: &[usize],
    act: Activation,
    x: &DMatrix<f64>,
) -> Vec<DMatrix<f64>> {
    let depth = sizes.len() - 1;
    let mut out: Vec<DMatrix<f64>> = Vec::with_capacity(depth);
    for l in 1..=depth {
        let (w, b) = layer(t, sizes, l);
        let prev = out.last().unwrap_or(x);
        let mut z = affine(prev, w, b);
        if l < depth {
            activate(&mut z, act);
        }
        out.push(z);
    }
    out
}

/// Parameters, loss and gradient of one evaluation.
type LossAt = (Vec<f64>, f64, Vec<f64>);

/// The training problem on standardised data.
pub(super) struct Net<'a> {
    pub x: &'a DMatrix<f64>,
    pub y: &'a [f64],
    pub sizes: Vec<usize>,
    pub act: Activation,
    pub alpha: f64,
    /// The line search asks for the cost and then the gradient at the same
    /// point; both come from one pass, so the last pass is kept.
    last: std::cell::RefCell<Option<LossAt>>,
}

impl<'a> Net<'a> {
    pub fn new(
        x: &'a DMatrix<f64>,
        y: &'a [f64],
        sizes: Vec<usize>,
        act: Activation,
        alpha: f64,
    ) -> Self {
        Net {
            x,
            y,
            sizes,
            act,
            alpha,
            last: std::cell::RefCell::new(None),
        }
    }

    fn cached(&self, t: &[f64]) -> (f64, Vec<f64>) {
        if let Some((at, l, g)) = self.last.borrow().as_ref()
            && at.as_slice() == t
        {
            return (*l, g.clone());
        }
        let (l, g) = self.loss_grad(t);
        *self.last.borrow_mut() = Some((t.to_vec(), l, g.clone()));
        (l, g)
    }

    /// Loss and gradient at parameters `t`.
    pub fn loss_grad(&self, t: &[f64]) -> (f64, Vec<f64>) {
        let n = self.y.len() as f64;
        let sizes = &self.sizes;
        let depth = sizes.len() - 1;
        let acts = forward(t, sizes, self.act, self.x);
        let mut g = vec![0.0; t.len()];
        // D_{L+1} = (yhat - y) / n
        let mut d = acts[depth - 1].clone();
        let mut loss = 0.0;
        for (v, y) in d.iter_mut().zip(self.y) {
            let r = *v - y;
            loss += r * r / (2.0 * n);
            *v = r / n;
        }
        let reg = self.alpha / n;
        let mut off_end = t.len();
        for l in (1..=depth).rev() {
            let (sin, sout) = (sizes[l - 1], sizes[l]);
            let off = off_end - sin * sout - sout;
            let (w, _) = layer(t, sizes, l);
            let prev = if l == 1 { self.x } else { &acts[l - 2] };
            // grad W_l^T = A_{l-1}^T D_l (s_in x s_out, column-major = W_l row-major)
            let gw = prev.tr_mul(&d);
            for ((gi, gv), wv) in g[off..off + sin * sout]
                .iter_mut()
                .zip(gw.iter())
                .zip(w.iter())
            {
                *gi = gv + reg * wv;
                loss += 0.5 * reg * wv * wv;
            }
            for (j, col) in d.column_iter().enumerate() {
                g[off + sin * sout + j] = col.sum();
            }
            if l > 1 {
                let mut dp = &d * w.transpose();
                for (v, a) in dp.iter_mut().zip(acts[l - 2].iter()) {
                    *v *= derivative(*a, self.act);
                }
                d = dp;
            }
            off_end = off;
        }
        (loss, g)
    }
}

impl CostFunction for Net<'_> {
    type Param = Vec<f64>;
    type Output = f64;
    fn cost(&self, t: &Vec<f64>) -> std::result::Result<f64, argmin::core::Error> {
        Ok(self.cached(t).0)
    }
}

impl Gradient for Net<'_> {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;
    fn gradient(&self, t: &Vec<f64>) -> std::result::Result<Vec<f64>, argmin::core::Error> {
        Ok(self.cached(t).1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gradient_matches_finite_differences_for_every_activation() {
        let x = DMatrix::from_fn(12, 3, |i, j| ((i * 5 + j) as f64 * 0.7).sin());
        let y: Vec<f64> = (0..12).map(|i| (i as f64 * 0.3).cos()).collect();
        for act in [Activation::Relu, Activation::Tanh, Activation::Logistic] {
            for hidden in [vec![4], vec![5, 3]] {
                let s = sizes(3, &hidden);
                let net = Net::new(&x, &y, s.clone(), act, 0.3);
                let t: Vec<f64> = (0..n_params(&s))
                    .map(|k| ((k * 3 + 1) as f64 * 0.37).sin() * 0.5)
                    .collect();
                let (_, g) = net.loss_grad(&t);
                for k in 0..t.len() {
                    let h = 1e-6;
                    let (mut a, mut b) = (t.clone(), t.clone());
                    a[k] += h;
                    b[k] -= h;
                    let fd = (net.loss_grad(&a).0 - net.loss_grad(&b).0) / (2.0 * h);
                    assert!(
                        (fd - g[k]).abs() < 1e-7,
                        "{act:?} {hidden:?} parameter {k}: {fd} vs {}",
                        g[k]
                    );
                }
            }
        }
    }

    #[test]
    fn loss_is_the_closed_form_for_a_linear_network() {
        // no hidden layer: yhat = x . w + b, so the loss is checkable by hand
        let x = DMatrix::from_row_slice(3, 2, &[1.0, 2.0, 0.0, -1.0, 3.0, 0.5]);
        let y = [1.0, 0.0, 2.0];
        let net = Net::new(&x, &y, sizes(2, &[]), Activation::Relu, 0.6);
        let t = [0.5, -0.25, 0.1];
        let yhat = [0.5 - 0.5 + 0.1, 0.25 + 0.1, 1.5 - 0.125 + 0.1];
        let rss: f64 = yhat.iter().zip(y).map(|(a, b)| (a - b) * (a - b)).sum();
        let want = rss / 6.0 + 0.6 / 6.0 * (0.25 + 0.0625);
        assert!((net.loss_grad(&t).0 - want).abs() < 1e-15);
    }
}
