//! Factors and biases out to CSV or NumPy `.npy` files, for analysis elsewhere.
use std::io::Write;
use std::path::Path;

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::io::files::write_atomic;
use crate::model::Model;

/// The file format of an export, named as options spell it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    /// `users.csv` and `movies.csv`: id, bias and factors per row.
    Csv,
    /// NumPy `.npy` arrays of ids, factors and biases (and genre factors).
    #[default]
    Npy,
}

impl ExportFormat {
    /// Every format's name, in declaration order.
    pub fn names() -> &'static [&'static str] {
        crate::schema::serde_names::<ExportFormat>()
    }
}

/// An `.npy` (version 1.0) file: magic, a Python-dict header padded to 64 bytes, raw data.
fn npy(descr: &str, shape: &[usize], data: &[u8]) -> Vec<u8> {
    let shape = match shape {
        [n] => format!("({n},)"),
        dims => format!(
            "({})",
            dims.iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    let unpadded = 10 + header.len() + 1;
    header.push_str(&" ".repeat(unpadded.next_multiple_of(64) - unpadded));
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    out
}

fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// Writes into `dir` (created if needed); returns the file names written.
pub fn export(model: &Model, dir: &Path, format: ExportFormat) -> Result<Vec<String>> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, &e))?;
    let k = model.k;
    let mut written = Vec::new();
    let mut put = |name: &str, bytes: Vec<u8>| -> Result<()> {
        write_atomic(&dir.join(name), |w| w.write_all(&bytes))?;
        written.push(name.to_string());
        Ok(())
    };
    match format {
        ExportFormat::Npy => {
            let ids = |v: &[i64]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
            let (m, n) = (model.num_users(), model.num_items());
            put(
                "user_ids.npy",
                npy("<i8", &[m], &ids(model.users.raw_ids())),
            )?;
            put(
                "movie_ids.npy",
                npy("<i8", &[n], &ids(model.items.raw_ids())),
            )?;
            put(
                "user_factors.npy",
                npy("<f4", &[m, k], &f32_bytes(&model.user_factors)),
            )?;
            put(
                "user_bias.npy",
                npy("<f4", &[m], &f32_bytes(&model.user_bias)),
            )?;
            put(
                "movie_factors.npy",
                npy("<f4", &[n, k], &f32_bytes(&model.item_factors)),
            )?;
            put(
                "movie_bias.npy",
                npy("<f4", &[n], &f32_bytes(&model.item_bias)),
            )?;
            if !model.genre_factors.is_empty() {
                let g = model.genre_factors.len() / k.max(1);
                put(
                    "genre_factors.npy",
                    npy("<f4", &[g, k], &f32_bytes(&model.genre_factors)),
                )?;
            }
        }
        ExportFormat::Csv => {
            let table = |id: &str, ids: &[i64], bias: &[f32], factors: &[f32]| {
                let mut s = format!("{id},bias");
                for f in 0..k {
                    s.push_str(&format!(",f{f}"));
                }
                s.push('\n');
                for (r, raw) in ids.iter().enumerate() {
                    s.push_str(&format!("{raw},{}", bias[r]));
                    for x in &factors[r * k..(r + 1) * k] {
                        s.push_str(&format!(",{x}"));
                    }
                    s.push('\n');
                }
                s.into_bytes()
            };
            put(
                "users.csv",
                table(
                    "userId",
                    model.users.raw_ids(),
                    &model.user_bias,
                    &model.user_factors,
                ),
            )?;
            put(
                "movies.csv",
                table(
                    "movieId",
                    model.items.raw_ids(),
                    &model.item_bias,
                    &model.item_factors,
                ),
            )?;
        }
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_named_as_options_spell_them() {
        assert_eq!(ExportFormat::names(), ["csv", "npy"]);
        let f: ExportFormat = serde_json::from_str(r#""csv""#).unwrap();
        assert_eq!(f, ExportFormat::Csv);
        let e = serde_json::from_str::<ExportFormat>(r#""json""#).unwrap_err();
        assert!(e.to_string().contains("`csv` or `npy`"), "{e}");
    }
}
