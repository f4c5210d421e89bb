//! Which ratings layout a file has: the MovieLens ones, or a user's column mapping.
use std::path::Path;

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::ingest::numbers::MAX_FIELDS;

/// A column given by position (0-based) or, when the file has a header, by name.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Column {
    Index(usize),
    Name(String),
}

/// How to read a delimited ratings file that is not in a known MovieLens layout.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ColumnMapping {
    /// Field separator: any non-empty string ("," "\t" "::" ";" "|"). Default ",".
    #[serde(default)]
    pub delimiter: Option<String>,
    /// Whether the first line names the columns. Default true.
    #[serde(default)]
    pub header: Option<bool>,
    pub user: Column,
    /// The movie column, `movie` in options. The core calls movies items, as everywhere;
    /// `item` is still read as a deprecated alias (see [`ColumnMapping::DEPRECATED_KEYS`]).
    #[serde(rename = "movie", alias = "item")]
    pub item: Column,
    pub rating: Column,
    #[serde(default)]
    pub timestamp: Option<Column>,
}

impl ColumnMapping {
    /// Old names still read but not offered: `item` for `movie`. It goes once no caller (the
    /// core's ingest tests among them) spells the movie column `item`.
    pub const DEPRECATED_KEYS: &'static [&'static str] = &["item"];

    /// Keys as the API takes them, in declaration order, without the deprecated aliases.
    pub fn keys() -> Vec<&'static str> {
        crate::schema::serde_names::<ColumnMapping>()
            .iter()
            .copied()
            .filter(|k| !Self::DEPRECATED_KEYS.contains(k))
            .collect()
    }
}

/// The resolved layout the parser works with.
#[derive(Debug, Clone, PartialEq)]
pub struct RatingsFormat {
    /// A short name for the report: "movielens-csv", "movielens-dat", "movielens-100k", "mapped".
    pub name: &'static str,
    pub delimiter: Vec<u8>,
    pub header: HeaderRule,
    pub user: Column,
    pub item: Column,
    pub rating: Column,
    pub timestamp: Option<Column>,
    /// MovieLens ratings lie on this scale; a value outside it is a bad row.
    pub default_scale: Option<(f32, f32)>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum HeaderRule {
    /// No header: the first line is data.
    None,
    /// The header must start with these names (case-insensitive).
    Expect(Vec<&'static str>),
    /// A header whose names the columns may refer to.
    Named,
}

impl RatingsFormat {
    /// ml-latest-small, ml-20m, ml-25m, ml-32m: `userId,movieId,rating,timestamp` with a header.
    pub fn movielens_csv() -> Self {
        RatingsFormat {
            name: "movielens-csv",
            delimiter: b",".to_vec(),
            header: HeaderRule::Expect(vec!["userId", "movieId", "rating"]),
            user: Column::Index(0),
            item: Column::Index(1),
            rating: Column::Index(2),
            timestamp: Some(Column::Index(3)),
            default_scale: Some((0.5, 5.0)),
        }
    }

    /// ml-1m, ml-10m: `UserID::MovieID::Rating::Timestamp`, no header.
    pub fn movielens_dat() -> Self {
        RatingsFormat {
            name: "movielens-dat",
            delimiter: b"::".to_vec(),
            header: HeaderRule::None,
            ..Self::movielens_csv()
        }
    }

    /// ml-100k `u.data` and its `u1.base` … `ub.test`: tab-separated, no header.
    pub fn movielens_100k() -> Self {
        RatingsFormat {
            name: "movielens-100k",
            delimiter: b"\t".to_vec(),
            header: HeaderRule::None,
            ..Self::movielens_csv()
        }
    }

    pub fn from_mapping(m: &ColumnMapping) -> Result<Self> {
        let delimiter = m.delimiter.clone().unwrap_or_else(|| ",".into());
        if delimiter.is_empty() || delimiter.contains('\n') {
            return Err(Error::invalid_argument(format!(
                "delimiter must be a non-empty string without newlines (got {delimiter:?})"
            )));
        }
        let header = m.header.unwrap_or(true);
        let columns = [
            Some(&m.user),
            Some(&m.item),
            Some(&m.rating),
            m.timestamp.as_ref(),
        ];
        if !header {
            if let Some(Column::Name(n)) = columns
                .iter()
                .flatten()
                .find(|c| matches!(c, Column::Name(_)))
            {
                return Err(Error::invalid_argument(format!(
                    "column {n:?} is given by name but header is false; give its 0-based index"
                )));
            }
        }
        Ok(RatingsFormat {
            name: "mapped",
            delimiter: delimiter.into_bytes(),
            header: if header {
                HeaderRule::Named
            } else {
                HeaderRule::None
            },
            user: m.user.clone(),
            item: m.item.clone(),
            rating: m.rating.clone(),
            timestamp: m.timestamp.clone(),
            default_scale: None,
        })
    }

    /// The layout a MovieLens ratings file has: `.csv` by its name, the others (`ratings.dat`,
    /// `u.data`, `u1.base`, `r1.train`, …) by the separator of their first line.
    pub fn detect(path: &Path, first_line: &[u8]) -> Option<Self> {
        let name = path.file_name()?.to_str()?;
        if name.ends_with(".csv") {
            Some(Self::movielens_csv())
        } else if memchr::memmem::find(first_line, b"::").is_some() {
            Some(Self::movielens_dat())
        } else if first_line.contains(&b'\t') {
            Some(Self::movielens_100k())
        } else {
            None
        }
    }
}

/// Column positions once the header (or the first line) is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resolved {
    pub fields: usize,
    pub user: usize,
    pub item: usize,
    pub rating: usize,
    pub timestamp: Option<usize>,
}

impl RatingsFormat {
    /// Resolves names and checks positions against the header's (or first line's) field count.
    pub fn resolve(
        &self,
        names: Option<&[String]>,
        fields: usize,
        path: &Path,
    ) -> Result<Resolved> {
        let find = |c: &Column, what: &str| -> Result<usize> {
            let i = match c {
                Column::Index(i) => *i,
                Column::Name(n) => names
                    .and_then(|ns| ns.iter().position(|h| h.eq_ignore_ascii_case(n)))
                    .ok_or_else(|| {
                        Error::invalid_data(format!(
                            "{} line 1: the header has no column {n:?} for the {what}{} (found {})",
                            path.display(),
                            if fields > MAX_FIELDS {
                                format!(" among its first {MAX_FIELDS} columns")
                            } else {
                                String::new()
                            },
                            names.map(|n| n.join(",")).unwrap_or_default()
                        ))
                    })?,
            };
            if i >= MAX_FIELDS {
                return Err(Error::invalid_argument(format!(
                    "{}: the {what} column {i} is past the {MAX_FIELDS}th; alsrec reads the first {MAX_FIELDS} columns of a line",
                    path.display()
                )));
            }
            if i >= fields {
                return Err(Error::invalid_data(format!(
                    "{} line 1: the {what} column {i} does not exist: the line has {fields} fields",
                    path.display()
                )));
            }
            Ok(i)
        };
        let timestamp = match &self.timestamp {
            // MovieLens files with only three columns simply have no timestamps.
            Some(Column::Index(3)) if self.name != "mapped" && fields < 4 => None,
            Some(c) => Some(find(c, "timestamp")?),
            None => None,
        };
        Ok(Resolved {
            fields,
            user: find(&self.user, "user")?,
            item: find(&self.item, "movie")?,
            rating: find(&self.rating, "rating")?,
            timestamp,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_movie_column_is_movie_and_item_is_a_deprecated_alias() {
        let m: ColumnMapping =
            serde_json::from_str(r#"{"user":0,"movie":"m","rating":2}"#).unwrap();
        assert_eq!(m.item, Column::Name("m".into()));
        let old: ColumnMapping =
            serde_json::from_str(r#"{"user":0,"item":"m","rating":2}"#).unwrap();
        assert_eq!(old, m);
        let e = serde_json::from_str::<ColumnMapping>(r#"{"user":0,"movie":1,"rating":2,"x":1}"#)
            .unwrap_err();
        assert!(e.to_string().contains("unknown field `x`"), "{e}");
        assert_eq!(
            ColumnMapping::keys(),
            [
                "delimiter",
                "header",
                "user",
                "movie",
                "rating",
                "timestamp"
            ]
        );
    }
}
