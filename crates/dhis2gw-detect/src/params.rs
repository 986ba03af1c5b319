//! Reading a rule's parameters (a JSON object, named as R's controls in snake_case): typed
//! getters with defaults, each refusing a malformed value by name, and a final check that
//! refuses any parameter the method does not take.

use serde_json::{Map, Value};

use crate::DetectError;

/// The parameters of one method while it reads them.
pub(crate) struct Params<'a> {
    map: &'a Map<String, Value>,
    known: Vec<&'static str>,
}

impl<'a> Params<'a> {
    pub(crate) fn new(map: &'a Map<String, Value>) -> Self {
        Self {
            map,
            known: Vec::new(),
        }
    }

    /// A number, given as a JSON number or as text (CSV imports and `--param` give text).
    pub(crate) fn number(&mut self, name: &'static str) -> Result<Option<f64>, DetectError> {
        self.known.push(name);
        let Some(value) = self.map.get(name) else {
            return Ok(None);
        };
        let number = match value {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse::<f64>().ok(),
            _ => None,
        };
        match number {
            Some(x) if x.is_finite() => Ok(Some(x)),
            _ => Err(DetectError::param(name, format!("{value} is not a number"))),
        }
    }

    /// A number that must be given.
    pub(crate) fn required(&mut self, name: &'static str) -> Result<f64, DetectError> {
        self.number(name)?
            .ok_or_else(|| DetectError::param(name, "is required"))
    }

    /// A number at least `min` (`default` when absent).
    pub(crate) fn at_least(
        &mut self,
        name: &'static str,
        default: f64,
        min: f64,
    ) -> Result<f64, DetectError> {
        let x = self.number(name)?.unwrap_or(default);
        if x < min {
            return Err(DetectError::param(name, format!("{x} is below {min}")));
        }
        Ok(x)
    }

    /// A number above zero (`default` when absent).
    pub(crate) fn positive(
        &mut self,
        name: &'static str,
        default: f64,
    ) -> Result<f64, DetectError> {
        let x = self.number(name)?.unwrap_or(default);
        if x <= 0.0 {
            return Err(DetectError::param(name, format!("{x} must be above 0")));
        }
        Ok(x)
    }

    /// A whole number of weeks (or years) of at least `min`.
    pub(crate) fn whole(
        &mut self,
        name: &'static str,
        default: usize,
        min: usize,
    ) -> Result<usize, DetectError> {
        let Some(x) = self.number(name)? else {
            return Ok(default);
        };
        // Far beyond any surveillance history, and small enough to index a series safely.
        const MAX: f64 = 10_000.0;
        if x.fract() != 0.0 || x < min as f64 || x > MAX {
            return Err(DetectError::param(
                name,
                format!("{x} is not a whole number from {min} to {MAX}"),
            ));
        }
        Ok(x as usize)
    }

    /// A probability strictly between 0 and 1.
    pub(crate) fn probability(&mut self, name: &'static str) -> Result<Option<f64>, DetectError> {
        match self.number(name)? {
            Some(x) if !(x > 0.0 && x < 1.0) => Err(DetectError::param(
                name,
                format!("{x} is not between 0 and 1"),
            )),
            other => Ok(other),
        }
    }

    /// One of `choices` (`choices[0]` when absent), compared without case.
    pub(crate) fn choice(
        &mut self,
        name: &'static str,
        choices: &[&'static str],
    ) -> Result<&'static str, DetectError> {
        self.known.push(name);
        let Some(value) = self.map.get(name) else {
            return Ok(choices[0]);
        };
        let text = value.as_str().unwrap_or_default();
        choices
            .iter()
            .find(|c| c.eq_ignore_ascii_case(text.trim()))
            .copied()
            .ok_or_else(|| {
                DetectError::param(
                    name,
                    format!("{value} is not one of {}", choices.join(", ")),
                )
            })
    }

    /// Refuses any parameter that was not read: a misspelt name must not silently fall back to
    /// a default.
    pub(crate) fn finish(self, method: &str) -> Result<(), DetectError> {
        let mut names: Vec<&str> = self.map.keys().map(String::as_str).collect();
        names.sort_unstable();
        match names.into_iter().find(|n| !self.known.contains(n)) {
            None => Ok(()),
            Some(unknown) => {
                let mut takes = self.known.clone();
                takes.sort_unstable();
                takes.dedup();
                let takes = if takes.is_empty() {
                    "none".to_owned()
                } else {
                    takes.join(", ")
                };
                Err(DetectError::param(
                    unknown,
                    format!("{method} has no such parameter (it takes {takes})"),
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(json: &str) -> Map<String, Value> {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn numbers_may_be_text_and_unknown_names_are_refused() {
        let m = map(r#"{"k": "1.5", "n": 3, "typo": 1}"#);
        let mut p = Params::new(&m);
        assert_eq!(p.number("k").unwrap(), Some(1.5));
        assert_eq!(p.whole("n", 1, 1).unwrap(), 3);
        let err = p.finish("ratio_to_mean").unwrap_err().to_string();
        assert!(err.starts_with("parameter typo:"), "{err}");
        assert!(err.contains("it takes k, n"), "{err}");
    }

    #[test]
    fn malformed_values_name_the_parameter() {
        let m = map(r#"{"weeks": 2.5, "alpha": 1, "trans": "log", "h": "x"}"#);
        let mut p = Params::new(&m);
        assert!(
            p.whole("weeks", 1, 1)
                .unwrap_err()
                .to_string()
                .contains("weeks")
        );
        assert!(
            p.probability("alpha")
                .unwrap_err()
                .to_string()
                .contains("alpha")
        );
        assert!(p.choice("trans", &["standard", "rossi"]).is_err());
        assert!(
            p.number("h")
                .unwrap_err()
                .to_string()
                .contains("parameter h")
        );
        assert!(p.required("threshold").is_err());
    }
}
