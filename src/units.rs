//! Physical quantities with units, parsed from text such as `"430mT"`,
//! `"2.5 ps"` or `"1.911eV"`.
//!
//! Internally spinfit keeps delays in picoseconds, magnetic fields in tesla,
//! photon energies in electronvolts and angular frequencies in rad/ns.
//! Photon energy and wavelength convert by E[eV] = 1239.842 / lambda[nm].

use crate::error::{Error, Result};
use std::str::FromStr;

/// hc in eV nm (CODATA 2018), for E[eV] = HC_EV_NM / lambda[nm].
pub const HC_EV_NM: f64 = 1_239.841_984;

/// Format a number with `sig` significant digits, switching to exponent form
/// for very large or small magnitudes.
pub fn fmt_sig(v: f64, sig: usize) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    if v == 0.0 {
        return "0".into();
    }
    let e = v.abs().log10().floor() as i32;
    if !(-4..6).contains(&e) {
        format!("{:.*e}", sig.saturating_sub(1), v)
    } else {
        let dec = (sig as i32 - 1 - e).max(0) as usize;
        format!("{v:.dec$}")
    }
}

fn split_number(text: &str) -> Option<(f64, String)> {
    let t = text.trim();
    let end = t
        .char_indices()
        .find(|&(i, c)| {
            !(c.is_ascii_digit()
                || c == '.'
                || c == '+'
                || c == '-'
                || ((c == 'e' || c == 'E')
                    && t[i + 1..]
                        .chars()
                        .next()
                        .is_some_and(|n| n.is_ascii_digit() || n == '-' || n == '+')))
        })
        .map(|(i, _)| i)
        .unwrap_or(t.len());
    let v: f64 = t[..end].parse().ok()?;
    Some((v, t[end..].trim().to_string()))
}

fn parse_with(
    text: &str,
    what: &'static str,
    default_unit: Option<&str>,
    units: &[(&str, f64)],
) -> Result<f64> {
    let err = |msg: String| Error::Quantity {
        text: text.to_string(),
        what,
        msg,
    };
    let (v, unit) = split_number(text).ok_or_else(|| err("no leading number".into()))?;
    if !v.is_finite() {
        return Err(err("value is not finite".into()));
    }
    let unit = if unit.is_empty() {
        default_unit
            .ok_or_else(|| {
                let names: Vec<_> = units.iter().map(|u| u.0).collect();
                err(format!("a unit is required, one of {}", names.join(", ")))
            })?
            .to_string()
    } else {
        unit
    };
    units
        .iter()
        .find(|(u, _)| *u == unit)
        .map(|(_, f)| v * f)
        .ok_or_else(|| {
            let names: Vec<_> = units.iter().map(|u| u.0).collect();
            err(format!(
                "unknown unit `{unit}`, expected one of {}",
                names.join(", ")
            ))
        })
}

/// Units a delay axis may be recorded in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum TimeUnit {
    Fs,
    Ps,
    Ns,
}

impl TimeUnit {
    /// Factor that converts a value in this unit to picoseconds.
    pub fn to_ps(self) -> f64 {
        match self {
            TimeUnit::Fs => 1e-3,
            TimeUnit::Ps => 1.0,
            TimeUnit::Ns => 1e3,
        }
    }
    /// Unit named by a column-name suffix such as `delay_ps` or `t (fs)`.
    pub fn from_column_name(name: &str) -> Option<TimeUnit> {
        let n = name.trim().to_ascii_lowercase();
        for (s, u) in [
            ("fs", TimeUnit::Fs),
            ("ps", TimeUnit::Ps),
            ("ns", TimeUnit::Ns),
        ] {
            if n.ends_with(&format!("_{s}"))
                || n.ends_with(&format!("({s})"))
                || n.ends_with(&format!("[{s}]"))
                || n.ends_with(&format!(" {s}"))
            {
                return Some(u);
            }
        }
        None
    }
}

impl FromStr for TimeUnit {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "fs" => Ok(TimeUnit::Fs),
            "ps" => Ok(TimeUnit::Ps),
            "ns" => Ok(TimeUnit::Ns),
            _ => Err(Error::Quantity {
                text: s.into(),
                what: "a time unit",
                msg: "expected fs, ps or ns".into(),
            }),
        }
    }
}

macro_rules! quantity {
    ($(#[$doc:meta])* $name:ident, $field:ident, $what:literal, $default:expr, [$($u:literal => $f:expr),*]) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, PartialOrd, serde::Serialize)]
        pub struct $name(pub f64);
        impl $name {
            /// The value in the internal unit.
            pub fn $field(self) -> f64 { self.0 }
        }
        impl FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self> {
                parse_with(s, $what, $default, &[$(($u, $f)),*]).map($name)
            }
        }
    };
}

quantity!(
    /// A time (delay, lifetime) in picoseconds.
    ///
    /// ```
    /// use spinfit::units::Time;
    /// assert_eq!("50ps".parse::<Time>().unwrap().ps(), 50.0);
    /// assert_eq!("1.5 ns".parse::<Time>().unwrap().ps(), 1500.0);
    /// assert!("3 parsecs".parse::<Time>().is_err());
    /// ```
    Time, ps, "a time", None, ["fs" => 1e-3, "ps" => 1.0, "ns" => 1e3, "us" => 1e6]
);

quantity!(
    /// A magnetic field in tesla.
    ///
    /// ```
    /// use spinfit::units::Field;
    /// assert!(("430mT".parse::<Field>().unwrap().tesla() - 0.43).abs() < 1e-12);
    /// assert_eq!("2 T".parse::<Field>().unwrap().tesla(), 2.0);
    /// assert!("430".parse::<Field>().is_err()); // a unit is required
    /// ```
    Field, tesla, "a magnetic field", None, ["T" => 1.0, "mT" => 1e-3, "G" => 1e-4, "kG" => 0.1]
);

/// A photon energy in eV. Text may give it in eV, meV or as a wavelength in
/// nm (converted with E = 1239.842 / lambda).
///
/// ```
/// use spinfit::units::Energy;
/// assert_eq!("1.911eV".parse::<Energy>().unwrap().ev(), 1.911);
/// assert!(("1239.841984nm".parse::<Energy>().unwrap().ev() - 1.0).abs() < 1e-9);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, serde::Serialize)]
pub struct Energy(pub f64);

impl Energy {
    /// The energy in eV.
    pub fn ev(self) -> f64 {
        self.0
    }
    /// Energy from a wavelength in nm.
    pub fn from_nm(nm: f64) -> Energy {
        Energy(HC_EV_NM / nm)
    }
    /// The corresponding wavelength in nm.
    pub fn nm(self) -> f64 {
        HC_EV_NM / self.0
    }
}

impl FromStr for Energy {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let v = parse_with(
            s,
            "a photon energy or wavelength",
            None,
            &[("eV", 1.0), ("meV", 1e-3), ("nm", 1.0)],
        )?;
        if s.trim_end().ends_with("nm") {
            if v <= 0.0 {
                return Err(Error::Quantity {
                    text: s.into(),
                    what: "a wavelength",
                    msg: "must be positive".into(),
                });
            }
            Ok(Energy::from_nm(v))
        } else {
            Ok(Energy(v))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn units_from_column_names() {
        assert_eq!(TimeUnit::from_column_name("delay_fs"), Some(TimeUnit::Fs));
        assert_eq!(TimeUnit::from_column_name("Delay (ns)"), Some(TimeUnit::Ns));
        assert_eq!(TimeUnit::from_column_name("delay"), None);
    }
    #[test]
    fn rejects_nonsense() {
        assert!("abc".parse::<Time>().is_err());
        assert!("nan ps".parse::<Time>().is_err());
        assert!("5 parsec".parse::<Time>().is_err());
    }
}
