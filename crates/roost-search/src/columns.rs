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
//!
//! Testing a row is mostly cache misses: between two searches the vector scan reads ~40 MB,
//! so these arrays are not in cache. So the fields filters test sit together in one 64-byte
//! record per row ([`Hot`]), one cache line instead of one per field, and [`Columns::passing`]
//! first narrows the rarest condition's rows by the next conditions' row lists (bits in a
//! set) before it tests any row. "3 bed villa under 4M in Arabian Ranches" on 100k listings
//! went from ~0.2–0.3 ms to ~0.1 ms.

use std::collections::HashMap;

use roost_api::search::Filters;

/// Marks an absent text value (SQL NULL) in the id columns.
const NULL_ID: u32 = u32::MAX;
/// How much longer than the rows left a condition's row list may be for [`Columns::passing`]
/// to narrow by it first (reading a list entry costs ~1 ns, testing a row ~50 ns), and how
/// few rows are left not to bother.
const NARROW_RATIO: usize = 16;
const NARROW_MIN: usize = 64;

/// A listing's filterable fields as read from SQL; `None` is NULL.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RowFields {
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

impl RowFields {
    /// The fields of a listing as the device's cache stores them (same values, same NULLs).
    pub fn of(l: &roost_api::listings::Listing) -> RowFields {
        RowFields {
            updated_at: l.updated_at,
            price_minor: l.price.as_ref().map(|p| p.amount_minor),
            currency: l.price.as_ref().map(|p| p.currency.clone()),
            bedrooms: l.bedrooms.map(i64::from),
            bathrooms: l.bathrooms.map(f64::from),
            size_sqft: l.size.as_ref().map(|s| s.sqft),
            property_type: l.property_type.clone(),
            community: l.community.clone(),
            status: l.status.clone(),
            furnished: l.furnished,
            attributes: l
                .attributes
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        }
    }
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

/// A row's filterable fields, NULLs as flags, in one cache line.
#[derive(Debug, Clone, Copy)]
#[repr(align(64))]
struct Hot {
    price_minor: i64,
    bedrooms: i64,
    bathrooms: f64,
    size_sqft: f64,
    /// Ids into the dictionaries; [`NULL_ID`] for NULL.
    currency: u32,
    property_type: u32,
    community: u32,
    status: u32,
    /// [`ALIVE`], [`FURNISHED`] and the `HAS_…` bits of the nullable numbers.
    flags: u8,
}

const ALIVE: u8 = 1;
const HAS_PRICE: u8 = 2;
const HAS_BEDROOMS: u8 = 4;
const HAS_BATHROOMS: u8 = 8;
const HAS_SIZE: u8 = 16;
const HAS_FURNISHED: u8 = 32;
const FURNISHED: u8 = 64;

impl Hot {
    /// A dead row: no listing, every field NULL.
    const DEAD: Hot = Hot {
        price_minor: 0,
        bedrooms: 0,
        bathrooms: 0.0,
        size_sqft: 0.0,
        currency: NULL_ID,
        property_type: NULL_ID,
        community: NULL_ID,
        status: NULL_ID,
        flags: 0,
    };

    fn alive(&self) -> bool {
        self.flags & ALIVE != 0
    }

    fn get<T: Copy>(&self, flag: u8, value: T) -> Option<T> {
        (self.flags & flag != 0).then_some(value)
    }

    fn price_minor(&self) -> Option<i64> {
        self.get(HAS_PRICE, self.price_minor)
    }

    fn bedrooms(&self) -> Option<i64> {
        self.get(HAS_BEDROOMS, self.bedrooms)
    }

    fn bathrooms(&self) -> Option<f64> {
        self.get(HAS_BATHROOMS, self.bathrooms)
    }

    fn size_sqft(&self) -> Option<f64> {
        self.get(HAS_SIZE, self.size_sqft)
    }

    fn furnished(&self) -> Option<bool> {
        self.get(HAS_FURNISHED, self.flags & FURNISHED != 0)
    }
}

#[derive(Debug, Default, Clone)]
pub struct Columns {
    hot: Vec<Hot>,
    live: usize,
    updated_at: Vec<i64>,
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
        self.hot.get(row as usize).is_some_and(Hot::alive)
    }

    /// One past the highest row.
    pub fn rows(&self) -> usize {
        self.hot.len()
    }

    fn grow(&mut self, row: usize) {
        if row < self.hot.len() {
            return;
        }
        let n = row + 1;
        self.hot.resize(n, Hot::DEAD);
        self.updated_at.resize(n, 0);
        self.attributes.resize(n, Vec::new());
    }

    /// Sets (or replaces) a row. Call [`Columns::finish`] after a batch.
    pub fn set(&mut self, row: u32, fields: &RowFields) {
        self.remove(row);
        let r = row as usize;
        self.grow(r);
        self.live += 1;
        self.updated_at[r] = fields.updated_at;
        let flag = |present: bool, flag: u8| if present { flag } else { 0 };
        let flags = ALIVE
            | flag(fields.price_minor.is_some(), HAS_PRICE)
            | flag(fields.bedrooms.is_some(), HAS_BEDROOMS)
            | flag(fields.bathrooms.is_some(), HAS_BATHROOMS)
            | flag(fields.size_sqft.is_some(), HAS_SIZE)
            | flag(fields.furnished.is_some(), HAS_FURNISHED)
            | flag(fields.furnished == Some(true), FURNISHED);
        let put = |dict: &mut Dict, value: &Option<String>, fold: bool| match value {
            Some(v) => {
                let id = dict.intern(v, fold);
                dict.rows[id as usize].push(row);
                id
            }
            None => NULL_ID,
        };
        self.hot[r] = Hot {
            price_minor: fields.price_minor.unwrap_or_default(),
            bedrooms: fields.bedrooms.unwrap_or_default(),
            bathrooms: fields.bathrooms.unwrap_or_default(),
            size_sqft: fields.size_sqft.unwrap_or_default(),
            currency: put(&mut self.currencies, &fields.currency, EXACT),
            property_type: put(&mut self.property_types, &fields.property_type, FOLD),
            community: put(&mut self.communities, &fields.community, FOLD),
            status: put(&mut self.statuses, &fields.status, FOLD),
            flags,
        };
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
        let hot = std::mem::replace(&mut self.hot[r], Hot::DEAD);
        self.live -= 1;
        let drop_from = |dict: &mut Dict, id: u32| {
            if id != NULL_ID {
                let rows = &mut dict.rows[id as usize];
                if let Some(i) = rows.iter().position(|&x| x == row) {
                    rows.swap_remove(i);
                }
            }
        };
        drop_from(&mut self.currencies, hot.currency);
        drop_from(&mut self.property_types, hot.property_type);
        drop_from(&mut self.communities, hot.community);
        drop_from(&mut self.statuses, hot.status);
        for id in std::mem::take(&mut self.attributes[r]) {
            drop_from(&mut self.attribute_dict, id);
        }
    }

    /// Rebuilds what depends on all rows (the newest-first order) after sets and removes.
    pub fn finish(&mut self) {
        let mut newest = self.all_rows();
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
        let hot = &self.hot[r];
        if !hot.alive() {
            return false;
        }
        let f = q.f;
        if let Some(p) = &f.price {
            let Some(price) = hot.price_minor() else {
                return false;
            };
            if Some(hot.currency) != q.currency
                || p.min_minor.is_some_and(|m| price < m)
                || p.max_minor.is_some_and(|m| price > m)
            {
                return false;
            }
        }
        if !f.bedrooms.is_open() {
            let Some(beds) = hot.bedrooms() else {
                return false;
            };
            if f.bedrooms.min.is_some_and(|m| beds < i64::from(m))
                || f.bedrooms.max.is_some_and(|m| beds > i64::from(m))
            {
                return false;
            }
        }
        if let Some(min) = f.bathrooms_min
            && hot.bathrooms().is_none_or(|b| b < f64::from(min))
        {
            return false;
        }
        if !f.size_sqft.is_open() {
            let Some(size) = hot.size_sqft() else {
                return false;
            };
            if f.size_sqft.min.is_some_and(|m| size < m)
                || f.size_sqft.max.is_some_and(|m| size > m)
            {
                return false;
            }
        }
        if let Some(want) = f.furnished
            && hot.furnished() != Some(want)
        {
            return false;
        }
        let any_of = |ids: &Option<Vec<u32>>, value: u32| {
            ids.as_ref().is_none_or(|ids| ids.contains(&value))
        };
        any_of(&q.property_types, hot.property_type)
            && any_of(&q.communities, hot.community)
            && any_of(&q.statuses, hot.status)
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
        // The rarest condition first, with the number of rows holding it.
        let mut conditions: Vec<(usize, &Dict, Vec<u32>)> = conditions
            .into_iter()
            .map(|(dict, ids)| {
                let size = ids.iter().map(|&id| dict.rows[id as usize].len()).sum();
                (size, dict, ids)
            })
            .collect();
        conditions.sort_by_key(|c| c.0);
        let mut conditions = conditions.into_iter();
        let mut rows: Vec<u32> = match conditions.next() {
            Some((_, dict, ids)) => {
                let mut rows = union(dict, &ids);
                // Narrow by the next conditions' row lists while they are short: testing a
                // row in `matches` costs a cache miss, a bit in a set next to nothing.
                for (size, dict, ids) in conditions {
                    if rows.len() < NARROW_MIN || size > rows.len() * NARROW_RATIO {
                        break;
                    }
                    let set = RowSet::new(self.rows(), &union(dict, &ids));
                    rows.retain(|&r| set.contains(r));
                }
                rows.retain(|&r| self.matches(r, &q));
                rows.sort_unstable();
                rows
            }
            None => (0..self.hot.len() as u32)
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
    pub fn facets(&self, rows: &[u32]) -> roost_api::search::Facets {
        use roost_api::search::{FacetCount, Facets};
        let text = |dict: &Dict, column: fn(&Hot) -> u32| {
            let mut counts = vec![0u64; dict.names.len()];
            for &r in rows {
                let id = column(&self.hot[r as usize]);
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
            if let Some(b) = self.hot[r as usize]
                .bedrooms()
                .and_then(|b| u16::try_from(b).ok())
            {
                *beds.entry(b).or_default() += 1;
            }
        }
        Facets {
            property_types: text(&self.property_types, |h| h.property_type),
            communities: text(&self.communities, |h| h.community),
            bedrooms: beds
                .into_iter()
                .map(|(value, count)| FacetCount { value, count })
                .collect(),
        }
    }

    /// Every live row, ascending.
    pub fn all_rows(&self) -> Vec<u32> {
        (0..self.hot.len() as u32)
            .filter(|&r| self.hot[r as usize].alive())
            .collect()
    }
}

/// A set of rows as bits: membership tests in the hot loops without hashing.
pub struct RowSet(Vec<u64>);

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
