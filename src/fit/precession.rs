//! Larmor precession seen in time-resolved Faraday/Kerr rotation or
//! ellipticity: one or two damped cosines (eq. 2 of the Nanoscale paper),
//!
//! A(t) = sum_i S_i cos(omega_i t + phi_i) E(t; T2*_i) [+ B exp(-t/tau_d)] [+ c],
//!
//! with t in ps from the pump, omega_i in rad/ns (so the phase is
//! omega_i t / 1000), T2*_i in ps. The phases phi_i are optional (eq. 2 has
//! none), as are a non-oscillating exponential and a constant offset.
//!
//! The envelope E is the Fourier transform of the ensemble's spread of
//! Larmor frequencies: a Lorentzian spread gives eq. 2's exponential
//! E = exp(-t / T2*) (spectral half-width 1/T2*), a Gaussian spread
//! E = exp(-t^2 / (2 T2*^2)) (half-width sqrt(2 ln 2) / T2*), and both at
//! once (homogeneous dephasing and a Gaussian spread of g, a Voigt line)
//!
//! E = exp(-t / T2 - (sigma_w t)^2 / 2),   sigma_w = dg_inh mu_B B / hbar,
//!
//! with T2 (ps) the homogeneous time, sigma_w (rad/ns) the standard
//! deviation of the Larmor frequencies and dg_inh that of g. The Voigt
//! line's half-width is about 0.5346 f_L + sqrt(0.2166 f_L^2 + f_G^2)
//! (Olivero and Longbothum 1977, 0.02 % accuracy) from the Lorentzian
//! f_L = 1/T2 and Gaussian f_G = sqrt(2 ln 2) sigma_w half-widths.
//!
//! Parameters per cosine, in order: amplitude, omega (rad/ns), t2 (ps),
//! [phase (rad)], [sigma_w (rad/ns), Voigt envelope only].
//!
//! With a laser repetition period each cosine is summed over the earlier
//! pulses as well ([`super::rsa`]): the model then holds at negative delays
//! too. Without one it describes delays after the pump only.

use super::fastmath::{
    damped_rotation_body, damped_sin_cos_body, exp, exp_in_place, exp_slice, sin_cos,
    sin_cos_slice, uniform_grid, widest,
};
use super::model::{Model, Separable};
use super::params::{Param, Params};
use super::rsa::{self, Period};
use crate::physics::GAUSS_HWHM_PER_SIGMA;

/// Shape of the dephasing envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Envelope {
    /// exp(-t / T2*): a Lorentzian spread of g (eq. 2 and eq. 3).
    #[default]
    Exponential,
    /// exp(-t^2 / (2 T2*^2)): a Gaussian spread of g.
    Gaussian,
    /// exp(-t / T2 - (sigma_w t)^2 / 2): homogeneous dephasing and a
    /// Gaussian spread of g, with its own parameter sigma_w per cosine.
    Voigt,
}

impl Envelope {
    /// The exponent's T2 part: -t / T2 (exponential, Voigt) or -t^2 / (2 T2^2).
    #[inline]
    pub fn arg(self, t: f64, t2: f64) -> f64 {
        match self {
            Envelope::Exponential | Envelope::Voigt => -t / t2,
            Envelope::Gaussian => -0.5 * (t / t2) * (t / t2),
        }
    }
    /// d arg / d T2: t / T2^2 or t^2 / T2^3.
    #[inline]
    pub fn darg(self, t: f64, t2: f64) -> f64 {
        match self {
            Envelope::Exponential | Envelope::Voigt => t / (t2 * t2),
            Envelope::Gaussian => t * t / (t2 * t2 * t2),
        }
    }
    /// The exponent from u = t / T2: -u or -u^2 / 2.
    #[inline(always)]
    pub fn arg_scaled(self, u: f64) -> f64 {
        match self {
            Envelope::Exponential | Envelope::Voigt => -u,
            Envelope::Gaussian => -0.5 * u * u,
        }
    }
    /// T2 d arg / d T2 from u = t / T2: u or u^2.
    #[inline(always)]
    pub fn darg_scaled(self, u: f64) -> f64 {
        match self {
            Envelope::Exponential | Envelope::Voigt => u,
            Envelope::Gaussian => u * u,
        }
    }
    /// Half-width at half maximum of the line in rad/ns, for T2 in ps and
    /// (Voigt only) sigma_w in rad/ns.
    pub fn hwhm(self, t2: f64, sigma_w: f64) -> f64 {
        self.hwhm_and_gradient(t2, sigma_w).0
    }
    /// The half-width and its derivatives by T2 and by sigma_w.
    pub fn hwhm_and_gradient(self, t2: f64, sigma_w: f64) -> (f64, f64, f64) {
        let k = GAUSS_HWHM_PER_SIGMA;
        match self {
            Envelope::Exponential => (1e3 / t2, -1e3 / (t2 * t2), 0.0),
            Envelope::Gaussian => (k * 1e3 / t2, -k * 1e3 / (t2 * t2), 0.0),
            Envelope::Voigt => {
                let (fl, fg) = (1e3 / t2, k * sigma_w);
                let r = (0.2166 * fl * fl + fg * fg).sqrt();
                // dh/dfl dfl/dT2 with dfl/dT2 = -fl / T2; dh/dfg k
                let dfl = if r > 0.0 {
                    0.5346 + 0.2166 * fl / r
                } else {
                    0.5346
                };
                let dfg = if r > 0.0 { fg / r } else { 0.0 };
                (0.5346 * fl + r, -dfl * fl / t2, dfg * k)
            }
        }
    }
}

impl Envelope {
    /// Start values (T2 in ps, sigma_w in rad/ns) for envelope `to` with
    /// the half-width of this envelope at (`t2`, `sigma_w`). Into the Voigt
    /// envelope the line is split mostly into the part it came from: 80 %
    /// of the half-width Lorentzian from the exponential, 20 % from the
    /// Gaussian (sigma_w from the Olivero-Longbothum width).
    pub fn restart(self, t2: f64, sigma_w: f64, to: Envelope) -> (f64, f64) {
        let h = self.hwhm(t2, sigma_w);
        let k = GAUSS_HWHM_PER_SIGMA;
        match to {
            Envelope::Exponential => (1e3 / h, 0.0),
            Envelope::Gaussian => (k * 1e3 / h, 0.0),
            Envelope::Voigt => {
                let fl = h * if self == Envelope::Gaussian { 0.2 } else { 0.8 };
                let rest = h - 0.5346 * fl;
                let fg = (rest * rest - 0.2166 * fl * fl).max(0.0).sqrt();
                (1e3 / fl, fg / k)
            }
        }
    }
}

impl std::fmt::Display for Envelope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Envelope::Exponential => "exponential",
            Envelope::Gaussian => "gaussian",
            Envelope::Voigt => "voigt",
        })
    }
}

impl std::str::FromStr for Envelope {
    type Err = crate::error::Error;
    fn from_str(s: &str) -> crate::error::Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "exp" | "exponential" | "lorentzian" => Ok(Envelope::Exponential),
            "gauss" | "gaussian" => Ok(Envelope::Gaussian),
            "voigt" => Ok(Envelope::Voigt),
            _ => Err(crate::error::Error::setting(
                "envelope",
                format!("`{s}`, expected exponential, gaussian or voigt"),
            )),
        }
    }
}

/// Configuration of the precession model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Precession {
    /// Number of damped cosines (1 or 2).
    pub n_cos: usize,
    /// Fit a phase per component.
    pub phase: bool,
    /// Add a non-oscillating exponential B exp(-t/tau_d).
    pub decay: bool,
    /// Add a constant offset.
    pub offset: bool,
    /// Dephasing envelope shared by the cosines.
    pub envelope: Envelope,
    /// Laser repetition period: the earlier pulses' spins summed in.
    pub repetition: Option<Period>,
}

impl Precession {
    /// Parameter name `base` for component `k` (0-based).
    pub fn pname(&self, base: &str, k: usize) -> String {
        if self.n_cos == 1 {
            base.to_string()
        } else {
            format!("{base}_{}", k + 1)
        }
    }
    /// Number of parameters per cosine.
    pub fn per(&self) -> usize {
        3 + self.phase as usize + self.voigt() as usize
    }
    /// Nonlinear parameters per cosine: omega, t2[, sigma_w].
    fn nl(&self) -> usize {
        2 + self.voigt() as usize
    }
    /// Does each cosine carry a sigma_w (the Voigt envelope)?
    pub fn voigt(&self) -> bool {
        self.envelope == Envelope::Voigt && self.n_cos > 0
    }
    /// Index of sigma_w within a cosine's parameters.
    fn sigma_at(&self) -> usize {
        3 + self.phase as usize
    }
}

impl Model for Precession {
    fn name(&self) -> String {
        if self.n_cos == 0 {
            return format!(
                "exponential decay (no precession){}",
                if self.offset { " + offset" } else { "" }
            );
        }
        let mut s = format!(
            "{} damped cosine{}{}",
            self.n_cos,
            if self.n_cos > 1 { "s" } else { "" },
            if self.phase { " with phases" } else { "" }
        );
        match self.envelope {
            Envelope::Gaussian => s.push_str(" (Gaussian envelope)"),
            Envelope::Voigt => s.push_str(" (Voigt envelope)"),
            Envelope::Exponential => {}
        }
        if self.decay {
            s.push_str(" + exponential");
        }
        if self.offset {
            s.push_str(" + offset");
        }
        if let Some(r) = self.repetition {
            s.push_str(&format!(", earlier pulses every {} ns", r.ns()));
        }
        s
    }

    fn template(&self) -> Params {
        let mut v = Vec::new();
        for k in 0..self.n_cos {
            v.push(Param::new(self.pname("amplitude", k), 1.0, "signal"));
            v.push(Param::new(self.pname("omega", k), 30.0, "rad/ns").bounds(0.0, f64::INFINITY));
            v.push(Param::new(self.pname("t2", k), 200.0, "ps").bounds(1e-3, f64::INFINITY));
            if self.phase {
                v.push(Param::new(self.pname("phase", k), 0.0, "rad"));
            }
            if self.voigt() {
                v.push(
                    Param::new(self.pname("sigma_w", k), 1.0, "rad/ns").bounds(0.0, f64::INFINITY),
                );
            }
        }
        if self.decay {
            v.push(Param::new("decay_amplitude", 0.0, "signal"));
            v.push(Param::new("decay_tau", 100.0, "ps").bounds(1e-3, f64::INFINITY));
        }
        if self.offset {
            v.push(Param::new("offset", 0.0, "signal"));
        }
        Params(v)
    }

    fn eval(&self, p: &[f64], x: &[f64], out: &mut [f64]) {
        if self.repetition.is_some() {
            return self.eval_by_basis(p, x, out, None);
        }
        let per = self.per();
        let tail = per * self.n_cos;
        for (o, &t) in out.iter_mut().zip(x) {
            let mut s = 0.0;
            for k in 0..self.n_cos {
                let q = &p[k * per..];
                let phi = if self.phase { q[3] } else { 0.0 };
                let g = if self.voigt() {
                    gauss_arg(q[self.sigma_at()], t)
                } else {
                    0.0
                };
                s += q[0] * sin_cos(q[1] * t * 1e-3 + phi).1 * exp(self.envelope.arg(t, q[2]) + g);
            }
            let mut j = tail;
            if self.decay {
                s += p[j] * exp(-t / p[j + 1]);
                j += 2;
            }
            if self.offset {
                s += p[j];
            }
            *o = s;
        }
    }

    fn jacobian(&self, p: &[f64], x: &[f64], jac: &mut [f64]) {
        if self.repetition.is_some() {
            let mut out = vec![0.0; x.len()];
            return self.eval_by_basis(p, x, &mut out, Some(jac));
        }
        self.fill(p, x, None, jac);
    }

    fn eval_jacobian(&self, p: &[f64], x: &[f64], out: &mut [f64], jac: &mut [f64]) {
        if self.repetition.is_some() {
            return self.eval_by_basis(p, x, out, Some(jac));
        }
        self.fill(p, x, Some(out), jac);
    }

    fn separable(&self) -> Option<&dyn Separable> {
        Some(self)
    }
}

/// The Voigt envelope's Gaussian exponent -(sigma_w t)^2 / 2, sigma_w in
/// rad/ns and t in ps (0 for sigma_w = 0).
#[inline(always)]
fn gauss_arg(sigma_w: f64, t: f64) -> f64 {
    let u = sigma_w * t * 1e-3;
    -0.5 * u * u
}

widest!(
    /// [`Separable::basis`] of a precession model at the widest vector width.
    fn basis_widest(
        this: &Precession,
        a: &[f64],
        x: &[f64],
        phi: &mut [f64],
        dphi: Option<&mut [f64]>
    ) = basis_body
);

#[inline(always)]
fn basis_body<const F: bool>(
    this: &Precession,
    a: &[f64],
    x: &[f64],
    phi: &mut [f64],
    mut dphi: Option<&mut [f64]>,
) {
    let m = x.len();
    let pc = 1 + this.phase as usize;
    let nl = this.nl();
    let env = this.envelope;
    let mut scratch = vec![0.0; 2 * m];
    let (sn, cs) = scratch.split_at_mut(m);
    // on a uniform grid the exponential envelope's cos E and sin E come by
    // rotation (one complex product per point)
    let rotate = (env == Envelope::Exponential)
        .then(|| uniform_grid(x))
        .flatten();
    for k in 0..this.n_cos {
        let (w, t2) = (a[nl * k] * 1e-3, a[nl * k + 1]);
        let sig = if this.voigt() { a[nl * k + 2] } else { 0.0 };
        if let Some(rep) = this.repetition {
            repeated_cosine(
                this,
                k,
                (a[nl * k], t2, sig),
                rep,
                x,
                phi,
                dphi.as_deref_mut(),
            );
            continue;
        }
        let inv = 1.0 / t2;
        if let Some((t0, h)) = rotate {
            damped_rotation_body::<F>(t0, h, w, inv, cs, sn);
        } else {
            let e = |t: f64| env.arg_scaled(t * inv) + gauss_arg(sig, t);
            damped_sin_cos_body::<F>(w, x, e, cs, sn);
        }
        let col = k * pc;
        phi[col * m..(col + 1) * m].copy_from_slice(cs);
        if this.phase {
            phi[(col + 1) * m..(col + 2) * m].copy_from_slice(sn);
        }
        if let Some(d) = dphi.as_deref_mut() {
            // structure order: per basis column (cos, then sin), its
            // derivatives by omega, t2[, sigma_w]; d arg / d T2 =
            // (t / T2) / T2 or (t / T2)^2 / T2, d arg / d sigma_w =
            // -sigma_w (t 1e-3)^2
            let s0 = nl * pc * k;
            let cols = &mut d[s0 * m..(s0 + nl * pc) * m];
            for j in 0..pc {
                let (base, other, sign) = if j == 0 {
                    (&*cs, &*sn, -1.0)
                } else {
                    (&*sn, &*cs, 1.0)
                };
                let blk = &mut cols[j * nl * m..(j + 1) * nl * m];
                let (dw, rest) = blk.split_at_mut(m);
                let (dt, ds) = rest.split_at_mut(m);
                for (((ow, ot), &t), (&b, &o)) in dw
                    .iter_mut()
                    .zip(dt.iter_mut())
                    .zip(x)
                    .zip(base.iter().zip(other.iter()))
                {
                    *ow = sign * o * (t * 1e-3);
                    *ot = b * (env.darg_scaled(t * inv) * inv);
                }
                if this.voigt() {
                    for ((os, &t), &b) in ds.iter_mut().zip(x).zip(base.iter()) {
                        *os = -b * sig * (t * 1e-3) * (t * 1e-3);
                    }
                }
            }
        }
    }
    let mut col = this.n_cos * pc;
    if this.decay {
        let tau = a[nl * this.n_cos];
        let out = &mut phi[col * m..(col + 1) * m];
        let d = dphi.map(|d| {
            let s = nl * pc * this.n_cos;
            &mut d[s * m..(s + 1) * m]
        });
        match this.repetition {
            Some(rep) => rsa::decay(tau, rep, x, out, d),
            None => {
                let inv = 1.0 / tau;
                for (o, &t) in out.iter_mut().zip(x) {
                    *o = -t * inv;
                }
                exp_in_place::<F>(out);
                if let Some(d) = d {
                    for ((o, &f), &t) in d.iter_mut().zip(out.iter()).zip(x) {
                        *o = f * (t * inv) * inv;
                    }
                }
            }
        }
        col += 1;
    }
    if this.offset {
        phi[col * m..(col + 1) * m].fill(1.0);
    }
}

/// Cosine `k`'s basis columns and derivatives summed over the pulses
/// ([`rsa::columns`]), in [`basis_body`]'s layout; `(omega, t2, sigma_w)`.
fn repeated_cosine(
    this: &Precession,
    k: usize,
    (w, t2, sig): (f64, f64, f64),
    rep: Period,
    x: &[f64],
    phi: &mut [f64],
    dphi: Option<&mut [f64]>,
) {
    let m = x.len();
    let (pc, nl) = (1 + this.phase as usize, this.nl());
    let mut v: [Vec<f64>; 8] = Default::default();
    v.iter_mut().for_each(|c| c.resize(m, 0.0));
    let env = this.envelope;
    let arg = |t: f64| (env.arg(t, t2), env.darg(t, t2));
    let shape = rsa::Shape {
        exponential: env == Envelope::Exponential,
        arg: &arg,
    };
    rsa::columns(&shape, w, t2, sig, rep, x, &mut v);
    let col = k * pc;
    for j in 0..pc {
        phi[(col + j) * m..(col + j + 1) * m].copy_from_slice(&v[j]);
    }
    if let Some(d) = dphi {
        let s0 = nl * pc * k;
        for j in 0..pc {
            for i in 0..nl {
                let at = (s0 + j * nl + i) * m;
                d[at..at + m].copy_from_slice(&v[2 + 2 * i + j]);
            }
        }
    }
}

/// The basis: per cosine cos(omega t) E and (with a phase) sin(omega t) E,
/// nonlinear in (omega, T2*[, sigma_w]); then exp(-t / tau_d) and 1.
/// Nonlinear parameters in order: omega_k, t2_k[, sigma_w_k] per cosine,
/// then decay_tau.
impl Separable for Precession {
    fn nonlinear(&self) -> Vec<usize> {
        let per = self.per();
        let mut v = vec![];
        for k in 0..self.n_cos {
            v.extend([k * per + 1, k * per + 2]);
            if self.voigt() {
                v.push(k * per + self.sigma_at());
            }
        }
        if self.decay {
            v.push(per * self.n_cos + 1);
        }
        v
    }
    fn linear(&self) -> Vec<usize> {
        let per = self.per();
        let mut v = vec![];
        for k in 0..self.n_cos {
            v.push(k * per);
            if self.phase {
                v.push(k * per + 3);
            }
        }
        let tail = per * self.n_cos;
        if self.decay {
            v.push(tail);
        }
        if self.offset {
            v.push(tail + 2 * self.decay as usize);
        }
        v
    }
    fn n_basis(&self) -> usize {
        self.n_cos * (1 + self.phase as usize) + self.decay as usize + self.offset as usize
    }
    fn structure(&self) -> Vec<(usize, usize)> {
        let (pc, nl) = (1 + self.phase as usize, self.nl());
        let mut v = vec![];
        for k in 0..self.n_cos {
            for j in 0..pc {
                for i in 0..nl {
                    v.push((k * pc + j, nl * k + i));
                }
            }
        }
        if self.decay {
            v.push((self.n_cos * pc, nl * self.n_cos));
        }
        v
    }
    fn basis(&self, a: &[f64], x: &[f64], phi: &mut [f64], dphi: Option<&mut [f64]>) {
        basis_widest(self, a, x, phi, dphi)
    }
    fn assemble(&self, a: &[f64], c: &[f64], p: &mut [f64]) {
        let (per, pc, nl) = (self.per(), 1 + self.phase as usize, self.nl());
        for k in 0..self.n_cos {
            let (b, cc) = (k * per, k * pc);
            p[b + 1] = a[nl * k];
            p[b + 2] = a[nl * k + 1];
            if self.voigt() {
                p[b + self.sigma_at()] = a[nl * k + 2];
            }
            if self.phase {
                // S cos(wt + phi) = S cos(phi) cos(wt) - S sin(phi) sin(wt)
                p[b] = c[cc].hypot(c[cc + 1]);
                p[b + 3] = (-c[cc + 1]).atan2(c[cc]);
            } else {
                p[b] = c[cc];
            }
        }
        let (mut j, mut cc) = (per * self.n_cos, self.n_cos * pc);
        if self.decay {
            p[j] = c[cc];
            p[j + 1] = a[nl * self.n_cos];
            j += 2;
            cc += 1;
        }
        if self.offset {
            p[j] = c[cc];
        }
    }
}

impl Precession {
    /// Values and (when `jac` is given) the Jacobian by parameter from the
    /// basis: f = sum_j c_j phi_j(a), with c = (S) or (S cos phi, -S sin phi)
    /// per cosine, then the decay's amplitude and the offset. Used with a
    /// repetition period, whose pulse sums live in the basis only.
    fn eval_by_basis(&self, p: &[f64], x: &[f64], out: &mut [f64], jac: Option<&mut [f64]>) {
        let m = x.len();
        let (per, pc, nb) = (self.per(), 1 + self.phase as usize, self.n_basis());
        let nonlin = self.nonlinear();
        let a: Vec<f64> = nonlin.iter().map(|&i| p[i]).collect();
        let st = self.structure();
        let mut phi = vec![0.0; nb * m];
        let mut dphi = vec![0.0; st.len() * m];
        self.basis(&a, x, &mut phi, jac.is_some().then_some(&mut dphi[..]));
        // the linear coefficient of each basis column
        let mut c = vec![0.0; nb];
        for k in 0..self.n_cos {
            let (amp, ph) = (p[k * per], if self.phase { p[k * per + 3] } else { 0.0 });
            c[k * pc] = amp * ph.cos();
            if self.phase {
                c[k * pc + 1] = -amp * ph.sin();
            }
        }
        let tail = per * self.n_cos;
        let mut cc = self.n_cos * pc;
        if self.decay {
            c[cc] = p[tail];
            cc += 1;
        }
        if self.offset {
            c[cc] = p[tail + 2 * self.decay as usize];
        }
        out.fill(0.0);
        for (j, cj) in c.iter().enumerate() {
            for (o, f) in out.iter_mut().zip(&phi[j * m..(j + 1) * m]) {
                *o += cj * f;
            }
        }
        let Some(jac) = jac else { return };
        jac.fill(0.0);
        for (s, &(col, i)) in st.iter().enumerate() {
            let dst = nonlin[i] * m;
            for (o, d) in jac[dst..dst + m].iter_mut().zip(&dphi[s * m..(s + 1) * m]) {
                *o += c[col] * d;
            }
        }
        for k in 0..self.n_cos {
            let (b, col) = (k * per, k * pc);
            let (amp, ph) = (p[b], if self.phase { p[b + 3] } else { 0.0 });
            let (sn, cs) = ph.sin_cos();
            for i in 0..m {
                let cv = phi[col * m + i];
                let sv = if self.phase {
                    phi[(col + 1) * m + i]
                } else {
                    0.0
                };
                jac[b * m + i] = cs * cv - sn * sv;
                if self.phase {
                    jac[(b + 3) * m + i] = -amp * (sn * cv + cs * sv);
                }
            }
        }
        let mut cc = self.n_cos * pc;
        if self.decay {
            jac[tail * m..(tail + 1) * m].copy_from_slice(&phi[cc * m..(cc + 1) * m]);
            cc += 1;
        }
        if self.offset {
            let j = tail + 2 * self.decay as usize;
            jac[j * m..(j + 1) * m].copy_from_slice(&phi[cc * m..(cc + 1) * m]);
        }
    }

    /// Jacobian, and the values too when `out` is given, in one pass.
    fn fill(&self, p: &[f64], x: &[f64], out: Option<&mut [f64]>, jac: &mut [f64]) {
        let m = x.len();
        let per = self.per();
        let tail = per * self.n_cos;
        // one component at a time, each step a plain loop over the delays
        // with the branch-free slice kernels, which the compiler vectorises
        let mut f = vec![0.0; m];
        let (mut arg, mut sn, mut cs, mut e) =
            (vec![0.0; m], vec![0.0; m], vec![0.0; m], vec![0.0; m]);
        for k in 0..self.n_cos {
            let b = k * per;
            let (a, w, t2) = (p[b], p[b + 1], p[b + 2]);
            let phi = if self.phase { p[b + 3] } else { 0.0 };
            for (g, &t) in arg.iter_mut().zip(x) {
                *g = w * t * 1e-3 + phi;
            }
            sin_cos_slice(&arg, &mut sn, &mut cs);
            let env = self.envelope;
            let sig = if self.voigt() {
                p[b + self.sigma_at()]
            } else {
                0.0
            };
            for (g, &t) in arg.iter_mut().zip(x) {
                *g = env.arg(t, t2) + gauss_arg(sig, t);
            }
            exp_slice(&arg, &mut e);
            let (j0, rest) = jac[b * m..].split_at_mut(m);
            let (j1, rest) = rest.split_at_mut(m);
            let j2 = &mut rest[..m];
            for i in 0..m {
                let (ce, se, t) = (cs[i] * e[i], sn[i] * e[i], x[i]);
                f[i] += a * ce;
                j0[i] = ce;
                j1[i] = -a * se * t * 1e-3;
                j2[i] = a * ce * env.darg(t, t2);
            }
            if self.phase {
                for (jj, (s_, e_)) in jac[(b + 3) * m..(b + 4) * m]
                    .iter_mut()
                    .zip(sn.iter().zip(&e))
                {
                    *jj = -a * s_ * e_;
                }
            }
            if self.voigt() {
                let js = &mut jac[(b + self.sigma_at()) * m..(b + self.sigma_at() + 1) * m];
                for ((jj, &t), (c_, e_)) in js.iter_mut().zip(x).zip(cs.iter().zip(&e)) {
                    *jj = -a * c_ * e_ * sig * (t * 1e-3) * (t * 1e-3);
                }
            }
        }
        let mut j = tail;
        if self.decay {
            let (amp, tau) = (p[j], p[j + 1]);
            for (g, &t) in arg.iter_mut().zip(x) {
                *g = -t / tau;
            }
            exp_slice(&arg, &mut e);
            for i in 0..m {
                f[i] += amp * e[i];
                jac[j * m + i] = e[i];
                jac[(j + 1) * m + i] = amp * e[i] * x[i] / (tau * tau);
            }
            j += 2;
        }
        if self.offset {
            for i in 0..m {
                f[i] += p[j];
                jac[j * m + i] = 1.0;
            }
        }
        if let Some(o) = out {
            o.copy_from_slice(&f);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fit::model::jacobian_mismatch;

    /// Parameters of `m`: amplitudes 1 and 0.7, the given omega, T2 and
    /// sigma_w per cosine, phases 0.3; the rest from the template.
    fn params(m: &Precession, w: [f64; 2], t2: [f64; 2], sig: [f64; 2]) -> Vec<f64> {
        let mut p = m.template().values();
        let per = m.per();
        for k in 0..m.n_cos {
            p[k * per] = 1.0 - 0.3 * k as f64;
            p[k * per + 1] = w[k];
            p[k * per + 2] = t2[k];
            if m.phase {
                p[k * per + 3] = 0.3;
            }
            if m.voigt() {
                p[k * per + m.sigma_at()] = sig[k];
            }
        }
        p
    }

    #[test]
    fn jacobian_matches_finite_differences() {
        let x: Vec<f64> = (0..400).map(|i| i as f64 * 5.0).collect();
        for n_cos in 1..=2 {
            for (phase, decay, offset, envelope) in [
                (false, false, false, Envelope::Exponential),
                (true, true, true, Envelope::Exponential),
                (true, false, true, Envelope::Gaussian),
                (false, true, false, Envelope::Voigt),
                (true, false, true, Envelope::Voigt),
            ] {
                let m = Precession {
                    n_cos,
                    phase,
                    decay,
                    offset,
                    envelope,
                    repetition: None,
                };
                let p = params(&m, [58.5, 26.5], [150.0, 220.0], [4.0, 2.5]);
                let err = jacobian_mismatch(&m, &p, &x);
                assert!(err < 1e-6, "{m:?}: mismatch {err}");
            }
        }
    }

    #[test]
    fn basis_derivatives_match_finite_differences_and_rebuild_the_model() {
        let x: Vec<f64> = (0..400).map(|i| i as f64 * 5.0).collect();
        for n_cos in 0..=2 {
            for (phase, decay, offset, envelope) in [
                (false, false, false, Envelope::Exponential),
                (true, true, true, Envelope::Exponential),
                (true, false, true, Envelope::Gaussian),
                (false, true, false, Envelope::Gaussian),
                (true, true, false, Envelope::Voigt),
                (false, false, true, Envelope::Voigt),
            ] {
                let m = Precession {
                    n_cos,
                    phase,
                    decay: decay || n_cos == 0,
                    offset,
                    envelope,
                    repetition: None,
                };
                let mut a = vec![];
                for k in 0..n_cos {
                    a.extend([[58.5, 26.5][k], [150.0, 220.0][k]]);
                    if m.voigt() {
                        a.push([4.0, 2.5][k]);
                    }
                }
                if m.decay {
                    a.push(310.0);
                }
                let c: Vec<f64> = (0..m.n_basis()).map(|j| 0.8 - 0.25 * j as f64).collect();
                let err = crate::fit::model::basis_mismatch(&m, &a, &c, &x);
                assert!(err < 1e-6, "{m:?}: mismatch {err}");
                assert_eq!(m.linear().len(), m.n_basis());
                assert_eq!(m.linear().len() + m.nonlinear().len(), m.template().0.len());
            }
        }
    }

    #[test]
    fn the_earlier_pulses_model_has_exact_derivatives_before_and_after_the_pump() {
        // delays from before the pump (only earlier pulses) to after it, a
        // period shorter than T2 so that several pulses add up
        let x: Vec<f64> = (0..300).map(|i| -1500.0 + i as f64 * 12.0).collect();
        let rep = Some(Period::from_ps(1300.0).unwrap());
        for (n_cos, phase, decay, offset, envelope) in [
            (1, true, false, false, Envelope::Exponential),
            (2, true, true, true, Envelope::Exponential),
            (1, false, true, true, Envelope::Gaussian),
            (2, true, false, true, Envelope::Voigt),
        ] {
            let m = Precession {
                n_cos,
                phase,
                decay,
                offset,
                envelope,
                repetition: rep,
            };
            let mut p = params(&m, [8.5, 6.5], [900.0, 2200.0], [0.4, 0.25]);
            let per = m.per();
            if decay {
                p[per * n_cos] = 0.2;
                p[per * n_cos + 1] = 700.0;
            }
            let err = jacobian_mismatch(&m, &p, &x);
            assert!(err < 1e-6, "{m:?}: Jacobian mismatch {err}");
            let a: Vec<f64> = m.nonlinear().iter().map(|&i| p[i]).collect();
            let c: Vec<f64> = (0..m.n_basis()).map(|j| 0.8 - 0.25 * j as f64).collect();
            let err = crate::fit::model::basis_mismatch(&m, &a, &c, &x);
            assert!(err < 1e-6, "{m:?}: basis mismatch {err}");
        }
        // one cosine, exponential envelope: the model is the sum over pulses
        let m = Precession {
            n_cos: 1,
            phase: true,
            decay: false,
            offset: false,
            envelope: Envelope::Exponential,
            repetition: rep,
        };
        let p = [0.7, 8.5, 900.0, 0.3];
        let mut y = vec![0.0; x.len()];
        m.eval(&p, &x, &mut y);
        for (i, &t) in x.iter().enumerate() {
            let want: f64 = (0..100)
                .map(|n| t + n as f64 * 1300.0)
                .filter(|tn| *tn >= 0.0)
                .map(|tn| 0.7 * (8.5e-3 * tn + 0.3).cos() * (-tn / 900.0).exp())
                .sum();
            assert!((y[i] - want).abs() < 1e-12, "t = {t}: {} vs {want}", y[i]);
        }
    }

    #[test]
    fn matches_equation_two() {
        let m = Precession {
            n_cos: 2,
            phase: false,
            decay: false,
            offset: false,
            envelope: Envelope::Exponential,
            repetition: None,
        };
        let p = [1.0, 58.5, 150.0, 0.5, 26.5, 220.0];
        let t = 123.0;
        let mut y = [0.0];
        m.eval(&p, &[t], &mut y);
        let expect = (58.5 * t / 1000.0_f64).cos() * (-t / 150.0_f64).exp()
            + 0.5 * (26.5 * t / 1000.0_f64).cos() * (-t / 220.0_f64).exp();
        assert!((y[0] - expect).abs() < 1e-14);
    }

    #[test]
    fn gaussian_envelope_and_its_line_width() {
        let m = Precession {
            n_cos: 1,
            phase: true,
            decay: false,
            offset: false,
            envelope: Envelope::Gaussian,
            repetition: None,
        };
        let (t, t2) = (180.0, 150.0);
        let mut y = [0.0];
        m.eval(&[0.7, 30.0, t2, 0.4], &[t], &mut y);
        let expect = 0.7 * (30.0 * t / 1000.0 + 0.4_f64).cos() * (-t * t / (2.0 * t2 * t2)).exp();
        assert!((y[0] - expect).abs() < 1e-14);
        // the half maximum of the line exp(-w^2 T2^2 / 2) lies at the HWHM
        let w = Envelope::Gaussian.hwhm(t2, 0.0) * 1e-3;
        assert!(((-(w * t2).powi(2) / 2.0).exp() - 0.5).abs() < 1e-12);
        // a Lorentzian line 1/(1 + (w T2)^2) is half at w = 1/T2
        let w = Envelope::Exponential.hwhm(t2, 0.0) * 1e-3;
        assert!((1.0 / (1.0 + (w * t2).powi(2)) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn voigt_envelope_is_the_product_and_its_line_width_the_numerical_one() {
        let m = Precession {
            n_cos: 1,
            phase: true,
            decay: false,
            offset: false,
            envelope: Envelope::Voigt,
            repetition: None,
        };
        let (t, t2, sig) = (180.0, 400.0, 3.0);
        let mut y = [0.0];
        m.eval(&[0.7, 30.0, t2, 0.4, sig], &[t], &mut y);
        let expect = 0.7
            * (30.0 * t / 1000.0 + 0.4_f64).cos()
            * (-t / t2).exp()
            * (-(sig * t * 1e-3).powi(2) / 2.0).exp();
        assert!((y[0] - expect).abs() < 1e-14);
        // the line is the Fourier transform of the envelope: find its half
        // maximum numerically (trapezoid on 0..20 ns) and compare with the
        // Olivero-Longbothum half-width, good to 0.02 % (0.1 % here)
        let line = |w: f64| -> f64 {
            let h = 0.5;
            (0..40_000)
                .map(|i| {
                    let t = i as f64 * h;
                    let wt = if i == 0 { 0.5 } else { 1.0 };
                    wt * h
                        * (w * t * 1e-3).cos()
                        * (-t / t2).exp()
                        * (-(sig * t * 1e-3).powi(2) / 2.0).exp()
                })
                .sum()
        };
        let half = 0.5 * line(0.0);
        let (mut lo, mut hi) = (0.0, 50.0);
        for _ in 0..60 {
            let mid = 0.5 * (lo + hi);
            if line(mid) > half { lo = mid } else { hi = mid }
        }
        let approx = Envelope::Voigt.hwhm(t2, sig);
        assert!((approx - lo).abs() < 1e-3 * lo, "{approx} vs {lo}");
        // the gradient against central differences
        for env in [Envelope::Exponential, Envelope::Gaussian, Envelope::Voigt] {
            let (_, dt, ds) = env.hwhm_and_gradient(t2, sig);
            let fd_t = (env.hwhm(t2 + 1e-3, sig) - env.hwhm(t2 - 1e-3, sig)) / 2e-3;
            let fd_s = (env.hwhm(t2, sig + 1e-6) - env.hwhm(t2, sig - 1e-6)) / 2e-6;
            assert!(
                (dt - fd_t).abs() < 1e-6 * fd_t.abs(),
                "{env}: {dt} vs {fd_t}"
            );
            assert!(
                (ds - fd_s).abs() < 1e-6 * fd_s.abs().max(1e-9),
                "{env}: {ds} vs {fd_s}"
            );
        }
        // the limits: pure Lorentzian, pure Gaussian
        assert!((Envelope::Voigt.hwhm(t2, 0.0) - 1e3 / t2).abs() < 1e-3 * 1e3 / t2);
        let g = Envelope::Voigt.hwhm(1e12, sig);
        assert!((g - Envelope::Gaussian.hwhm(1e3 / sig, 0.0)).abs() < 1e-6 * g);
    }
}
