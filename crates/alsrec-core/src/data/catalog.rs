//! The movie catalog: titles, years and genres, with a genre vocabulary shared by the models.
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq)]
pub struct Movie {
    pub id: i64,
    /// The title as written in the file, year included ("Toy Story (1995)").
    pub title: String,
    pub year: Option<i32>,
    /// Indices into `Catalog::genre_names`.
    pub genres: Vec<u16>,
}

/// A movie's ids on IMDb and TMDB, from `links.csv`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Links {
    pub imdb_id: Option<i64>,
    pub tmdb_id: Option<i64>,
}

#[derive(Debug, Clone, Default)]
pub struct Catalog {
    pub movies: Vec<Movie>,
    pub genre_names: Vec<String>,
    by_id: HashMap<i64, usize>,
    /// By movie id, when the data set has `links.csv`.
    pub links: HashMap<i64, Links>,
    /// By movie id: distinct tags with how often they were given, most frequent first.
    pub tags: HashMap<i64, Vec<(String, u32)>>,
}

/// MovieLens marks a movie without genres this way; it is not a genre.
pub const NO_GENRES: &str = "(no genres listed)";

impl Catalog {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a movie, interning its genre names. A repeated id replaces the earlier entry.
    pub fn push(&mut self, id: i64, title: String, genres: &[&str]) {
        let year = year_from_title(&title);
        let genres = genres
            .iter()
            .map(|g| g.trim())
            .filter(|g| !g.is_empty() && *g != NO_GENRES)
            .map(|g| self.genre_index(g))
            .collect();
        let movie = Movie {
            id,
            title,
            year,
            genres,
        };
        match self.by_id.get(&id) {
            Some(&i) => self.movies[i] = movie,
            None => {
                self.by_id.insert(id, self.movies.len());
                self.movies.push(movie);
            }
        }
    }

    pub fn genre_index(&mut self, name: &str) -> u16 {
        match self.genre_names.iter().position(|g| g == name) {
            Some(i) => i as u16,
            None => {
                self.genre_names.push(name.to_string());
                (self.genre_names.len() - 1) as u16
            }
        }
    }

    pub fn get(&self, id: i64) -> Option<&Movie> {
        self.by_id.get(&id).map(|&i| &self.movies[i])
    }

    pub fn len(&self) -> usize {
        self.movies.len()
    }

    pub fn is_empty(&self) -> bool {
        self.movies.is_empty()
    }
}

/// The year in a MovieLens title's trailing "(1995)" or "(1995-1997)", if any.
pub fn year_from_title(title: &str) -> Option<i32> {
    let t = title.trim_end();
    let t = t.strip_suffix(')')?;
    let open = t.rfind('(')?;
    let inner = &t[open + 1..];
    let first = inner.split(['-', '–']).next()?;
    if first.len() == 4 && first.bytes().all(|b| b.is_ascii_digit()) {
        first.parse().ok()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_years_and_genres() {
        assert_eq!(year_from_title("Toy Story (1995)"), Some(1995));
        assert_eq!(year_from_title("Babylon 5 (1994-1998) "), Some(1994));
        assert_eq!(year_from_title("Cosmos"), None);
        assert_eq!(year_from_title("Big (Film)"), None);
        let mut c = Catalog::new();
        c.push(1, "A (2000)".into(), &["Comedy", "Drama"]);
        c.push(2, "B".into(), &[NO_GENRES]);
        assert_eq!(c.genre_names, vec!["Comedy", "Drama"]);
        assert_eq!(c.get(2).unwrap().genres.len(), 0);
        assert_eq!(c.get(1).unwrap().year, Some(2000));
    }
}
