//! The filterable fields of every listing in memory, one array per field, indexed by rid.
//!
//! Why: evaluating "3 bed villa under 4M in Arabian Ranches" in SQL cost ~6 ms per query on
//! 100k listings (index choice, row decoding); over plain arrays it is a few microseconds,
//! because the rarest text condition (here the community) comes with its own list of rows
//! and only those rows are checked. SQL stays the source of truth: this is rebuilt from it
//! and must give exactly the rows `Filters::to_sql` selects (see the tests).
//!
//! Rows are rids: SQLite hands out small dense integers, so a vector beats a hash map.
//! Deleted listings leave a dead row behind.

use std::collections::HashMap;

use crate::filters::Filters;

/// Marks an absent text value (SQL NULL) in the id columns.
const NULL_ID: u32 = u32::MAX;

/// A listing's filterable fields as read from SQL; `None` is NULL.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct RowFields {
    pub updated_at: i64,
    pub price_minor: Option<i64>,
    pub currency: Option<String>,
    pub bedrooms: Option<i64>,
    pub bathrooms: Option<f64>,
    pub size_sqft: Option<f64>,
    pub property_type: Option<String>,
    pub community: Option<String>,
    pub status: Option<String>,
    pub furnished: Option<bool>,
    pub attributes: Vec<(String, String)>,
}

/// Interned values of one text column, with the rows holding each.
#[derive(Debug, Default, Clone)]
struct Dict {
    /// Case-folded the way the column compares (NOCASE folds ASCII only).
    ids: HashMap<String, u32>,
    /// The spelling shown in facets: the smallest seen, like SQL's `MIN(column)`.
    names: Vec<String>,
    /// Rows per id, in no particular order.
    rows: Vec<Vec<u32>>,
}

impl Dict {
    fn intern(&mut self, value: &str, fold: bool) -> u32 {
        let key = if fold {
            value.to_ascii_lowercase()
        } else {
            value.to_string()
        };
        if let Some(&id) = self.ids.get(&key) {
            let name = &mut self.names[id as usize];
            if value < name.as_str() {
                *name = value.to_string();
            }
            return id;
        }
        let id = self.names.len() as u32;
        self.ids.insert(key, id);
        self.names.push(value.to_string());
        self.rows.push(Vec::new());
        id
    }

    fn find(&self, value: &str, fold: bool) -> Option<u32> {
        if fold {
            self.ids.get(&value.to_ascii_lowercase()).copied()
        } else {
            self.ids.get(value).copied()
        }
    }
}

/// Which text columns fold case: the ones declared `COLLATE NOCASE` in the schema.
const FOLD: bool = true;
const EXACT: bool = false;

#[derive(Debug, Default, Clone)]
pub(crate) struct Columns {
    alive: Vec<bool>,
    live: usize,
    updated_at: Vec<i64>,
    price_minor: Vec<Option<i64>>,
    currency: Vec<u32>,
    bedrooms: Vec<Option<i64>>,
    bathrooms: Vec<Option<f64>>,
    size_sqft: Vec<Option<f64>>,
    property_type: Vec<u32>,
    community: Vec<u32>,
    status: Vec<u32>,
    furnished: Vec<Option<bool>>,
    /// Ids into `attribute_dict`, keyed by `key \0 value`.
    attributes: Vec<Vec<u32>>,
    currencies: Dict,
    property_types: Dict,
    communities: Dict,
    statuses: Dict,
    attribute_dict: Dict,
    /// Live rows, newest first (`updated_at DESC, rid`): the order unranked hits show in.
    newest: Vec<u32>,
}

/// A filter resolved to ids; `None` in a list means "no condition".
struct Resolved<'a> {
    f: &'a Filters,
    currency: Option<u32>,
    property_types: Option<Vec<u32>>,
    communities: Option<Vec<u32>>,
    statuses: Option<Vec<u32>>,
    attributes: Vec<u32>,
}

impl Columns {
    pub fn live(&self) -> usize {
        self.live
    }

    pub fn is_live(&self, row: u32) -> bool {
        self.alive.get(row as usize).copied().unwrap_or(false)
    }

    /// One past the highest row.
    pub fn rows(&self) -> usize {
        self.alive.len()
    }

    fn grow(&mut self, row: usize) {
        if row < self.alive.len() {
            return;
        }
        let n = row + 1;
        self.alive.resize(n, false);
        self.updated_at.resize(n, 0);
        self.price_minor.resize(n, None);
        self.currency.resize(n, NULL_ID);
        self.bedrooms.resize(n, None);
        self.bathrooms.resize(n, None);
        self.size_sqft.resize(n, None);
        self.property_type.resize(n, NULL_ID);
        self.community.resize(n, NULL_ID);
        self.status.resize(n, NULL_ID);
        self.furnished.resize(n, None);
        self.attributes.resize(n, Vec::new());
    }

    /// Sets (or replaces) a row. Call [`Columns::finish`] after a batch.
    pub fn set(&mut self, row: u32, fields: &RowFields) {
        self.remove(row);
        let r = row as usize;
        self.grow(r);
        self.alive[r] = true;
        self.live += 1;
        self.updated_at[r] = fields.updated_at;
        self.price_minor[r] = fields.price_minor;
        self.bedrooms[r] = fields.bedrooms;
        self.bathrooms[r] = fields.bathrooms;
        self.size_sqft[r] = fields.size_sqft;
        self.furnished[r] = fields.furnished;
        let put = |dict: &mut Dict, value: &Option<String>, fold: bool| match value {
            Some(v) => {
                let id = dict.intern(v, fold);
                dict.rows[id as usize].push(row);
                id
            }
            None => NULL_ID,
        };
        self.currency[r] = put(&mut self.currencies, &fields.currency, EXACT);
        self.property_type[r] = put(&mut self.property_types, &fields.property_type, FOLD);
        self.community[r] = put(&mut self.communities, &fields.community, FOLD);
        self.status[r] = put(&mut self.statuses, &fields.status, FOLD);
        let mut ids = Vec::with_capacity(fields.attributes.len());
        for (k, v) in &fields.attributes {
            // The key compares exactly and the value without ASCII case.
            let id = self
                .attribute_dict
                .intern(&format!("{k}\0{}", v.to_ascii_lowercase()), EXACT);
            self.attribute_dict.rows[id as usize].push(row);
            ids.push(id);
        }
        self.attributes[r] = ids;
    }

    /// Drops a row (a no-op for an unknown one). Call [`Columns::finish`] after a batch.
    pub fn remove(&mut self, row: u32) {
        if !self.is_live(row) {
            return;
        }
        let r = row as usize;
        self.alive[r] = false;
        self.live -= 1;
        let drop_from = |dict: &mut Dict, id: u32| {
            if id != NULL_ID {
                let rows = &mut dict.rows[id as usize];
                if let Some(i) = rows.iter().position(|&x| x == row) {
                    rows.swap_remove(i);
                }
            }
        };
        drop_from(&mut self.currencies, self.currency[r]);
        drop_from(&mut self.property_types, self.property_type[r]);
        drop_from(&mut self.communities, self.community[r]);
        drop_from(&mut self.statuses, self.status[r]);
        for id in std::mem::take(&mut self.attributes[r]) {
            drop_from(&mut self.attribute_dict, id);
        }
        self.currency[r] = NULL_ID;
        self.property_type[r] = NULL_ID;
        self.community[r] = NULL_ID;
        self.status[r] = NULL_ID;
    }

    /// Rebuilds what depends on all rows (the newest-first order) after sets and removes.
    pub fn finish(&mut self) {
        let mut newest: Vec<u32> = (0..self.alive.len() as u32)
            .filter(|&r| self.alive[r as usize])
            .collect();
        newest.sort_unstable_by(|&a, &b| {
            self.updated_at[b as usize]
                .cmp(&self.updated_at[a as usize])
                .then(a.cmp(&b))
        });
        self.newest = newest;
    }

    fn resolve<'a>(&self, f: &'a Filters) -> Option<Resolved<'a>> {
        // A list whose values the cache never saw matches nothing.
        let list = |dict: &Dict, values: &[String]| -> Option<Option<Vec<u32>>> {
            if values.is_empty() {
                return Some(None);
            }
            let ids: Vec<u32> = values.iter().filter_map(|v| dict.find(v, FOLD)).collect();
            (!ids.is_empty()).then_some(Some(ids))
        };
        let currency = match &f.price {
            Some(p) => Some(self.currencies.find(&p.currency, EXACT)?),
            None => None,
        };
        let mut attributes = Vec::with_capacity(f.attributes.len());
        for (k, v) in &f.attributes {
            let key = format!("{k}\0{}", v.to_ascii_lowercase());
            attributes.push(self.attribute_dict.find(&key, EXACT)?);
        }
        Some(Resolved {
            f,
            currency,
            property_types: list(&self.property_types, &f.property_types)?,
            communities: list(&self.communities, &f.communities)?,
            statuses: list(&self.statuses, &f.statuses)?,
            attributes,
        })
    }

    fn matches(&self, row: u32, q: &Resolved<'_>) -> bool {
        let r = row as usize;
        if !self.alive[r] {
            return false;
        }
        let f = q.f;
        if let Some(p) = &f.price {
            let Some(price) = self.price_minor[r] else {
                return false;
            };
            if Some(self.currency[r]) != q.currency
                || p.min_minor.is_some_and(|m| price < m)
                || p.max_minor.is_some_and(|m| price > m)
            {
                return false;
            }
        }
        if !f.bedrooms.is_open() {
            let Some(beds) = self.bedrooms[r] else {
                return false;
            };
            if f.bedrooms.min.is_some_and(|m| beds < i64::from(m))
                || f.bedrooms.max.is_some_and(|m| beds > i64::from(m))
            {
                return false;
            }
        }
        if let Some(min) = f.bathrooms_min
            && self.bathrooms[r].is_none_or(|b| b < f64::from(min))
        {
            return false;
        }
        if !f.size_sqft.is_open() {
            let Some(size) = self.size_sqft[r] else {
                return false;
            };
            if f.size_sqft.min.is_some_and(|m| size < m)
                || f.size_sqft.max.is_some_and(|m| size > m)
            {
                return false;
            }
        }
        if let Some(want) = f.furnished
            && self.furnished[r] != Some(want)
        {
            return false;
        }
        let any_of = |ids: &Option<Vec<u32>>, value: u32| {
            ids.as_ref().is_none_or(|ids| ids.contains(&value))
        };
        any_of(&q.property_types, self.property_type[r])
            && any_of(&q.communities, self.community[r])
            && any_of(&q.statuses, self.status[r])
            && q.attributes.iter().all(|a| self.attributes[r].contains(a))
    }

    /// Live rows passing `filters`, ascending.
    ///
    /// Only the rows of the rarest text condition are checked when there is one: each
    /// community, type, status and attribute value keeps its rows.
    pub fn passing(&self, filters: &Filters) -> Vec<u32> {
        let Some(q) = self.resolve(filters) else {
            return vec![];
        };
        let union = |dict: &Dict, ids: &[u32]| -> Vec<u32> {
            ids.iter()
                .flat_map(|&id| dict.rows[id as usize].iter().copied())
                .collect()
        };
        // Each text condition, as the dictionary and the ids any of which a row must have.
        let mut conditions: Vec<(&Dict, Vec<u32>)> = Vec::new();
        for (dict, ids) in [
            (&self.property_types, &q.property_types),
            (&self.communities, &q.communities),
            (&self.statuses, &q.statuses),
        ] {
            if let Some(ids) = ids {
                conditions.push((dict, ids.clone()));
            }
        }
        for &a in &q.attributes {
            conditions.push((&self.attribute_dict, vec![a]));
        }
        if let Some(c) = q.currency {
            conditions.push((&self.currencies, vec![c]));
        }
        let size = |(dict, ids): &(&Dict, Vec<u32>)| -> usize {
            ids.iter().map(|&id| dict.rows[id as usize].len()).sum()
        };
        let smallest = conditions.into_iter().min_by_key(size);
        let mut rows: Vec<u32> = match smallest {
            Some((dict, ids)) => {
                let mut rows: Vec<u32> = union(dict, &ids)
                    .into_iter()
                    .filter(|&r| self.matches(r, &q))
                    .collect();
                rows.sort_unstable();
                rows
            }
            None => (0..self.alive.len() as u32)
                .filter(|&r| self.matches(r, &q))
                .collect(),
        };
        rows.dedup();
        rows
    }

    /// Up to `limit` rows after skipping `skip`, newest first, from `among` (ascending rows,
    /// `None` for all) and not in `exclude`.
    pub fn newest(
        &self,
        among: Option<&[u32]>,
        exclude: &dyn Fn(u32) -> bool,
        skip: usize,
        limit: usize,
    ) -> Vec<u32> {
        let take = |it: &mut dyn Iterator<Item = u32>| -> Vec<u32> {
            it.filter(|&r| !exclude(r)).skip(skip).take(limit).collect()
        };
        match among {
            None => take(&mut self.newest.iter().copied()),
            // A small set sorts faster than walking the whole order.
            Some(rows) if rows.len() * 16 < self.newest.len() => {
                let mut rows = rows.to_vec();
                rows.sort_unstable_by(|&a, &b| {
                    self.updated_at[b as usize]
                        .cmp(&self.updated_at[a as usize])
                        .then(a.cmp(&b))
                });
                take(&mut rows.into_iter())
            }
            Some(rows) => {
                let set = RowSet::new(self.rows(), rows);
                take(&mut self.newest.iter().copied().filter(|&r| set.contains(r)))
            }
        }
    }

    /// Counts per property type, community and bedrooms over `rows`, like the SQL
    /// `GROUP BY` they replace: most frequent first, then by name; bedrooms by value.
    pub fn facets(&self, rows: &[u32]) -> crate::search::Facets {
        use crate::search::{FacetCount, Facets};
        let text = |dict: &Dict, column: &[u32]| {
            let mut counts = vec![0u64; dict.names.len()];
            for &r in rows {
                let id = column[r as usize];
                if id != NULL_ID {
                    counts[id as usize] += 1;
                }
            }
            let mut out: Vec<FacetCount<String>> = counts
                .into_iter()
                .enumerate()
                .filter(|(_, n)| *n > 0)
                .map(|(id, count)| FacetCount {
                    value: dict.names[id].clone(),
                    count,
                })
                .collect();
            out.sort_by(|a, b| {
                b.count.cmp(&a.count).then_with(|| {
                    a.value
                        .to_ascii_lowercase()
                        .cmp(&b.value.to_ascii_lowercase())
                })
            });
            out
        };
        let mut beds: std::collections::BTreeMap<u16, u64> = Default::default();
        for &r in rows {
            if let Some(b) = self.bedrooms[r as usize].and_then(|b| u16::try_from(b).ok()) {
                *beds.entry(b).or_default() += 1;
            }
        }
        Facets {
            property_types: text(&self.property_types, &self.property_type),
            communities: text(&self.communities, &self.community),
            bedrooms: beds
                .into_iter()
                .map(|(value, count)| FacetCount { value, count })
                .collect(),
        }
    }

    /// Every live row, ascending.
    pub fn all_rows(&self) -> Vec<u32> {
        (0..self.alive.len() as u32)
            .filter(|&r| self.alive[r as usize])
            .collect()
    }
}

/// A set of rows as bits: membership tests in the hot loops without hashing.
pub(crate) struct RowSet(Vec<u64>);

impl RowSet {
    pub fn new(rows: usize, members: &[u32]) -> RowSet {
        let mut bits = vec![0u64; rows.div_ceil(64)];
        for &r in members {
            if let Some(w) = bits.get_mut(r as usize / 64) {
                *w |= 1 << (r % 64);
            }
        }
        RowSet(bits)
    }

    pub fn contains(&self, row: u32) -> bool {
        self.0
            .get(row as usize / 64)
            .is_some_and(|w| w & (1 << (row % 64)) != 0)
    }
}
