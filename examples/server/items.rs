//! The item catalogue: `GET /api/items`, `GET /api/items/{id}`, `PUT /api/items/{id}`.
//!
//! Responses carry a strong `ETag` (a revision counter), `Cache-Control` and a
//! `Surrogate-Key` tag (`items` for the list, `item-{id}` for one item), and are
//! served through the shared cache; `If-None-Match` answers 304 and `If-Match`
//! on `PUT` guards against lost updates (412). A `PUT` purges the item's tag and
//! the list's, on every instance sharing the cache, and the same tags from the
//! data cache the reads go through (`data.rs`).

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::header::{CACHE_CONTROL, ETAG, IF_MATCH, IF_NONE_MATCH};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use strata::cache::CacheHandle;
use strata::core::Problem;

use crate::data::ItemData;
pub(crate) use crate::item_id::ItemId;
use crate::problems;

const CACHE_POLICY: &str = "public, max-age=30";

/// One catalogue entry.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct Item {
    pub(crate) id: u32,
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) price_cents: u32,
    pub(crate) tags: Vec<String>,
    pub(crate) version: u64,
}

/// The body of `PUT /api/items/{id}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ItemUpdate {
    name: String,
    description: String,
    price_cents: u32,
    #[serde(default)]
    tags: Vec<String>,
}

/// The most characters of an item's `name`.
pub(crate) const MAX_NAME: usize = 200;
/// The most characters of an item's `description`.
pub(crate) const MAX_DESCRIPTION: usize = 2000;
/// The most `tags` an item has.
pub(crate) const MAX_TAGS: usize = 20;
/// The most characters of one tag.
pub(crate) const MAX_TAG: usize = 32;

impl ItemUpdate {
    /// Every field within its bounds, else the first field outside them
    /// and its rule.
    fn validate(&self) -> Result<(), (&'static str, &'static str)> {
        let chars = |text: &str| text.chars().count();
        if self.name.trim().is_empty() || chars(&self.name) > MAX_NAME {
            return Err(("name", "name must be 1 to 200 characters"));
        }
        if chars(&self.description) > MAX_DESCRIPTION {
            return Err(("description", "description must be at most 2000 characters"));
        }
        if self.tags.len() > MAX_TAGS {
            return Err(("tags", "an item has at most 20 tags"));
        }
        if self
            .tags
            .iter()
            .any(|tag| tag.trim().is_empty() || chars(tag) > MAX_TAG)
        {
            return Err(("tags", "each tag must be 1 to 32 characters"));
        }
        Ok(())
    }
}

/// The catalogue, in memory. `revision` changes with every update, so the list
/// ETag changes whenever any item does.
#[derive(Debug, Clone)]
pub(crate) struct Catalogue {
    inner: Arc<RwLock<Inner>>,
}

#[derive(Debug)]
struct Inner {
    items: BTreeMap<u32, Item>,
    revision: u64,
}

const WORDS: [&str; 12] = [
    "sturdy",
    "compact",
    "weatherproof",
    "recycled",
    "modular",
    "quiet",
    "portable",
    "precise",
    "washable",
    "stackable",
    "insulated",
    "foldable",
];

impl Catalogue {
    /// 100 generated items: the list is about 25 KB of JSON.
    pub(crate) fn sample() -> Self {
        let items = (1..=100)
            .map(|id: u32| {
                let word = |n: u32| WORDS[(id as usize * 7 + n as usize) % WORDS.len()];
                let item = Item {
                    id,
                    name: format!("{} {} widget #{id}", word(0), word(1)),
                    description: format!(
                        "A {} and {} widget for everyday use. It is {}, {} and {}, ships \
                         within two days and comes with a two-year warranty.",
                        word(2),
                        word(3),
                        word(4),
                        word(5),
                        word(6)
                    ),
                    price_cents: 499 + id * 37 % 5000,
                    tags: vec![word(7).to_owned(), word(8).to_owned()],
                    version: 1,
                };
                (id, item)
            })
            .collect();
        Self {
            inner: Arc::new(RwLock::new(Inner { items, revision: 1 })),
        }
    }

    /// How many items there are.
    pub(crate) fn len(&self) -> usize {
        self.read(|inner| inner.items.len())
    }

    /// Item `id`, if there is one.
    pub(crate) fn find(&self, id: u32) -> Option<Item> {
        self.read(|inner| inner.items.get(&id).cloned())
    }

    /// The revision and every item.
    pub(crate) fn snapshot(&self) -> (u64, Vec<Item>) {
        self.read(|inner| (inner.revision, inner.items.values().cloned().collect()))
    }

    fn read<T>(&self, f: impl FnOnce(&Inner) -> T) -> T {
        f(&self
            .inner
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner))
    }
}

pub(crate) async fn list(State(data): State<ItemData>, headers: HeaderMap) -> Response {
    let (revision, items) = data.list().await;
    respond(
        &headers,
        &format!("\"items-r{revision}\""),
        &items,
        crate::cache::LIST_TAG,
    )
}

pub(crate) async fn get(
    State(data): State<ItemData>,
    ItemId(id): ItemId,
    headers: HeaderMap,
) -> Response {
    let Some(id) = id else {
        return no_such_item();
    };
    match data.item(id).await {
        Some(item) => respond(
            &headers,
            &item_etag(&item),
            &item,
            &crate::cache::item_tag(id),
        ),
        None => not_found(id),
    }
}

pub(crate) async fn put(
    State(catalogue): State<Catalogue>,
    State(cache): State<CacheHandle>,
    State(data): State<ItemData>,
    ItemId(id): ItemId,
    headers: HeaderMap,
    body: Result<Json<ItemUpdate>, JsonRejection>,
) -> Response {
    let update = match body {
        Ok(Json(update)) => update,
        Err(rejection) => return problems::json_rejection(&rejection),
    };
    let Some(id) = id else {
        return no_such_item();
    };
    if let Err((field, rule)) = update.validate() {
        return problems::invalid_field(field, rule);
    }
    let item = match catalogue.replace(id, update, headers.get(IF_MATCH)) {
        Ok(item) => item,
        Err(response) => return *response,
    };
    tracing::info!(item = id, version = item.version, "item updated");
    data.purge(id).await;
    // Read-your-writes: the cached copies are gone before the answer leaves.
    for tag in [
        crate::cache::item_tag(id),
        crate::cache::LIST_TAG.to_owned(),
    ] {
        if let Err(error) = cache.purge_tag(&tag).await {
            tracing::warn!(%error, tag, "cache purge failed; cached copies expire within 30 s");
        }
    }
    let mut response = Json(&item).into_response();
    insert_etag(response.headers_mut(), &item_etag(&item));
    response
}

impl Catalogue {
    /// Replaces item `id` (when `if_match`, if any, matches its ETag); the
    /// new item, or the problem to answer.
    fn replace(
        &self,
        id: u32,
        update: ItemUpdate,
        if_match: Option<&HeaderValue>,
    ) -> Result<Item, Box<Response>> {
        let mut inner = self
            .inner
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some(current) = inner.items.get(&id) else {
            return Err(Box::new(not_found(id)));
        };
        if let Some(expected) = if_match
            && !etag_matches(expected, &item_etag(current), false)
        {
            return Err(Box::new(
                Problem::new(StatusCode::PRECONDITION_FAILED)
                    .detail("the item changed since it was read")
                    .into_response(),
            ));
        }
        let item = Item {
            id,
            name: update.name,
            description: update.description,
            price_cents: update.price_cents,
            tags: update.tags,
            version: current.version + 1,
        };
        inner.items.insert(id, item.clone());
        inner.revision += 1;
        Ok(item)
    }
}

fn item_etag(item: &Item) -> String {
    format!("\"item-{}-v{}\"", item.id, item.version)
}

/// 304 when `If-None-Match` matches, else the JSON body; both with the
/// validators and caching policy.
fn respond(headers: &HeaderMap, etag: &str, body: &impl Serialize, tag: &str) -> Response {
    let fresh = headers
        .get(IF_NONE_MATCH)
        .is_some_and(|condition| etag_matches(condition, etag, true));
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        Json(body).into_response()
    };
    insert_etag(response.headers_mut(), etag);
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static(CACHE_POLICY));
    if let Ok(tag) = HeaderValue::from_str(tag) {
        response.headers_mut().insert("surrogate-key", tag);
    }
    response
}

fn insert_etag(headers: &mut HeaderMap, etag: &str) {
    if let Ok(value) = HeaderValue::from_str(etag) {
        headers.insert(ETAG, value);
    }
}

/// RFC 9110 entity-tag comparison of a condition list (`*`, or `"a", W/"b"`)
/// against `etag`; `weak` selects weak comparison (`If-None-Match`).
fn etag_matches(condition: &HeaderValue, etag: &str, weak: bool) -> bool {
    let Ok(condition) = condition.to_str() else {
        return false;
    };
    condition.split(',').map(str::trim).any(|candidate| {
        if candidate == "*" {
            return true;
        }
        match candidate.strip_prefix("W/") {
            Some(opaque) => weak && opaque == etag,
            None => candidate == etag,
        }
    })
}

fn no_such_item() -> Response {
    Problem::new(StatusCode::NOT_FOUND)
        .detail("no such item")
        .into_response()
}

fn not_found(id: u32) -> Response {
    Problem::new(StatusCode::NOT_FOUND)
        .detail(format!("no item {id}"))
        .into_response()
}
