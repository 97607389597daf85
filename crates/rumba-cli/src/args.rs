//! Parsing of the `NAME=VALUE` flags of `rumba run`.
//!
//! clap collects the raw strings; parsing them here lets every error name the flag, the input
//! or param and the text given, in the same `error: …` form as every other error.

use crate::error::CliError;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Splits `NAME=VALUE` at the first `=`; the name must not be empty.
fn split<'a>(flag: &'static str, expected: &'static str, text: &'a str) -> Result<(&'a str, &'a str), CliError> {
    match text.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name, value)),
        _ => Err(CliError::Assignment {
            flag,
            expected,
            text: text.to_owned(),
        }),
    }
}

/// Inserts `name → value`, rejecting a name given twice.
fn insert<V>(map: &mut BTreeMap<String, V>, flag: &'static str, name: &str, value: V) -> Result<(), CliError> {
    if map.insert(name.to_owned(), value).is_some() {
        return Err(CliError::Duplicate {
            flag,
            name: name.to_owned(),
        });
    }
    Ok(())
}

/// `--input NAME=FILE.npy` flags, by input name.
///
/// # Errors
/// A flag without `NAME=`, an empty file name, or a name given twice.
pub fn inputs(flags: &[String]) -> Result<BTreeMap<String, PathBuf>, CliError> {
    let mut map = BTreeMap::new();
    for text in flags {
        let (name, file) = split("--input", "NAME=FILE.npy", text)?;
        if file.is_empty() {
            return Err(CliError::Assignment {
                flag: "--input",
                expected: "NAME=FILE.npy",
                text: text.clone(),
            });
        }
        insert(&mut map, "--input", name, PathBuf::from(file))?;
    }
    Ok(map)
}

/// `--param NAME=VALUE` flags, by param name.
///
/// # Errors
/// A flag without `NAME=`, a value that is not a number, or a name given twice.
pub fn params(flags: &[String]) -> Result<BTreeMap<String, f64>, CliError> {
    let mut map = BTreeMap::new();
    for text in flags {
        let (name, value) = split("--param", "NAME=VALUE", text)?;
        let value: f64 = value.trim().parse().map_err(|_| CliError::ParamValue {
            name: name.to_owned(),
            text: value.to_owned(),
        })?;
        insert(&mut map, "--param", name, value)?;
    }
    Ok(map)
}

/// `--shape NAME=TxHxWxC` flags (any number of extents), by input name.
///
/// # Errors
/// A flag without `NAME=`, extents that are not non-negative integers, or a name given twice.
pub fn shapes(flags: &[String]) -> Result<BTreeMap<String, Vec<usize>>, CliError> {
    let mut map = BTreeMap::new();
    for text in flags {
        let (name, value) = split("--shape", "NAME=TxHxWxC", text)?;
        let extents: Option<Vec<usize>> = value.split(['x', 'X']).map(|e| e.trim().parse().ok()).collect();
        let extents = extents.ok_or_else(|| CliError::ShapeValue {
            name: name.to_owned(),
            text: value.to_owned(),
        })?;
        insert(&mut map, "--shape", name, extents)?;
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn assignments_parse() {
        let p = params(&strings(&["amount=0.5", "frame=-3", "big=1e3"])).unwrap();
        assert_eq!(p["amount"], 0.5);
        assert_eq!(p["frame"], -3.0);
        assert_eq!(p["big"], 1000.0);
        let s = shapes(&strings(&["x=8x16x16x1", "m=4X5"])).unwrap();
        assert_eq!(s["x"], [8, 16, 16, 1]);
        assert_eq!(s["m"], [4, 5]);
        let i = inputs(&strings(&["x=data/a=b.npy"])).unwrap();
        assert_eq!(i["x"], PathBuf::from("data/a=b.npy"));
    }

    #[test]
    fn bad_assignments_name_the_flag_and_text() {
        let err = params(&strings(&["amount=abc"])).unwrap_err();
        assert_eq!(err.to_string(), "--param amount: expected a number, found \"abc\"");
        let err = shapes(&strings(&["x=8x16xq"])).unwrap_err();
        assert!(
            err.to_string().contains("--shape x") && err.to_string().contains("8x16xq"),
            "{err}"
        );
        assert!(matches!(shapes(&strings(&["x="])), Err(CliError::ShapeValue { .. })));
        assert!(matches!(
            inputs(&strings(&["x.npy"])),
            Err(CliError::Assignment { flag: "--input", .. })
        ));
        assert!(matches!(
            inputs(&strings(&["=x.npy"])),
            Err(CliError::Assignment { .. })
        ));
        assert!(matches!(inputs(&strings(&["x="])), Err(CliError::Assignment { .. })));
        assert!(matches!(
            params(&strings(&["a=1", "a=2"])),
            Err(CliError::Duplicate { flag: "--param", .. })
        ));
    }
}
