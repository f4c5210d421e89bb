//! Title series: films whose titles share a name before a sequel number, a colon or a
//! subtitle (*Toy Story* / *Toy Story 2*, *Star Wars: Episode IV* / *Star Wars: Episode I*).
//!
//! The ranker adds a bonus to the films of a series the user liked (`docs/ranking.md`): a
//! collaborative model follows the original *Star Wars* trilogy's raters to *Raiders* and *The
//! Matrix* before the prequels, and a fan expects the rest of the series. The key is computed
//! from titles alone, so the TypeScript reader derives the same series from the same file
//! (`src/reader/series.ts` ports [`series_key`]; both are tested on the same titles).
use std::collections::HashMap;

use crate::data::sparse::RowValues;
use crate::model::Model;

/// A series of more members than this is a common word, not a franchise ("Love", "Night").
pub const MAX_SERIES: usize = 25;

/// The series name of a title, lower-case, or `None` when the title has none of 3+ characters.
///
/// The rule: drop a trailing "(year)" and any alternative title in parentheses, MovieLens's
/// trailing ", The" / ", A" / ", An" and a leading article; cut at the first ':' or " - "; then
/// cut before the first sequel marker that is not the first word (a number, a Roman numeral
/// II–VIII, or "Part").
pub fn series_key(title: &str) -> Option<String> {
    let mut t = title.trim();
    if let Some(open) = t.rfind(" (") {
        let year = t[open + 2..].trim_end_matches(')');
        if t.ends_with(')')
            && year.len() >= 4
            && year.chars().all(|c| c.is_ascii_digit() || c == '-')
        {
            t = t[..open].trim_end();
        }
    }
    if let Some(open) = t.find(" (") {
        t = &t[..open];
    }
    for suffix in [", The", ", A", ", An"] {
        if let Some(rest) = t.strip_suffix(suffix) {
            t = rest;
            break;
        }
    }
    for prefix in ["The ", "A ", "An "] {
        if let Some(rest) = t.strip_prefix(prefix) {
            t = rest;
            break;
        }
    }
    let cut = [t.find(':'), t.find(" - ")].into_iter().flatten().min();
    if let Some(cut) = cut {
        t = &t[..cut];
    }
    let words: Vec<&str> = t.split_whitespace().collect();
    let end = words
        .iter()
        .enumerate()
        .skip(1)
        .find(|(_, w)| is_sequel_marker(w))
        .map_or(words.len(), |(j, _)| j);
    let key = words[..end].join(" ").to_lowercase();
    (key.chars().count() >= 3).then_some(key)
}

fn is_sequel_marker(word: &str) -> bool {
    let word = word.trim_end_matches([',', '.']);
    (!word.is_empty() && word.bytes().all(|b| b.is_ascii_digit()))
        || matches!(
            word,
            "II" | "III" | "IV" | "V" | "VI" | "VII" | "VIII" | "Part"
        )
}

/// The series of a model's movies: `of_item[i]` indexes `members` (`u32::MAX`: none).
#[derive(Debug, Clone, Default)]
pub struct Series {
    pub of_item: Vec<u32>,
    pub members: Vec<Vec<u32>>,
}

impl Series {
    /// Groups the model's movies by [`series_key`], keeping groups of 2 to [`MAX_SERIES`].
    pub fn of_model(model: &Model) -> Series {
        let n = model.num_items();
        let mut groups: HashMap<String, Vec<u32>> = HashMap::new();
        for i in 0..n as u32 {
            if let Some(key) = model
                .catalog
                .get(model.items.raw(i))
                .and_then(|m| series_key(&m.title))
            {
                groups.entry(key).or_default().push(i);
            }
        }
        let mut members: Vec<Vec<u32>> = groups
            .into_values()
            .filter(|g| (2..=MAX_SERIES).contains(&g.len()))
            .collect();
        // Numbered by first member, so the numbering does not depend on the hash order.
        members.sort_unstable_by_key(|g| g[0]);
        let mut of_item = vec![u32::MAX; n];
        for (s, group) in members.iter().enumerate() {
            for &i in group {
                of_item[i as usize] = s as u32;
            }
        }
        Series { of_item, members }
    }

    /// The movies sharing a series with a film the user liked (rated at or above their own mean
    /// rating), sorted and distinct; the liked films themselves are included.
    pub fn liked_members(&self, items: &[u32], ratings: RowValues<'_>) -> Vec<u32> {
        if self.members.is_empty() || items.is_empty() {
            return Vec::new();
        }
        let mean = ratings.iter().map(|r| r as f64).sum::<f64>() / ratings.len() as f64;
        let mut series: Vec<u32> = items
            .iter()
            .zip(ratings)
            .filter(|(_, r)| *r as f64 >= mean)
            .filter_map(|(&i, _)| self.of_item.get(i as usize).copied())
            .filter(|&s| s != u32::MAX)
            .collect();
        series.sort_unstable();
        series.dedup();
        let mut out: Vec<u32> = series
            .iter()
            .flat_map(|&s| self.members[s as usize].iter().copied())
            .collect();
        out.sort_unstable();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Titles and their keys, shared with the TypeScript reader's test.
    const CASES: &str = include_str!("../../../../__test__/fixtures/series-keys.json");

    #[test]
    fn keys_follow_the_documented_rule() {
        let cases: Vec<(String, Option<String>)> = serde_json::from_str(CASES).unwrap();
        assert!(cases.len() > 10);
        for (title, key) in cases {
            assert_eq!(series_key(&title), key, "{title}");
        }
    }

    #[test]
    fn liked_members_take_ratings_at_or_above_the_mean() {
        let series = Series {
            of_item: vec![0, 0, 1, 1, u32::MAX],
            members: vec![vec![0, 1], vec![2, 3]],
        };
        // Mean 3: item 0 (4★) is liked, item 2 (2★) is not.
        assert_eq!(
            series.liked_members(&[0, 2, 4], RowValues::Plain(&[4.0, 2.0, 3.0])),
            vec![0, 1]
        );
        assert_eq!(
            series.liked_members(&[], RowValues::Plain(&[])),
            Vec::<u32>::new()
        );
        // Equal ratings (implicit data): all are liked.
        assert_eq!(
            series.liked_members(&[1, 3], RowValues::Plain(&[1.0, 1.0])),
            vec![0, 1, 2, 3]
        );
    }
}
