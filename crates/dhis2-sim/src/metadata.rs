//! Read-only metadata collections (`/api/organisationUnits`, `/api/dataSets/{id}`...) with
//! `fields`, `filter`, `order` and paging as `AbstractFullReadOnlyController` serves them.

use poem::Response;
use serde_json::{Map, Value, json};

use super::catalog::{Catalog, Collection};
use super::fields;
use super::filters::{Filter, compare};
use super::not_found::no_handler;
use super::request::Ctx;
use super::webmessage::{WebMessage, json_response};

const DEFAULT_PAGE_SIZE: usize = 50;
/// Lists default to `id,displayName` (DHIS2's ID_NAME preset), single objects to everything.
const DEFAULT_LIST_FIELDS: &str = "id,displayName";

pub fn is_collection(catalog: &Catalog, name: &str) -> bool {
    catalog.collection(name).is_some()
}

pub fn list(ctx: &Ctx, name: &str) -> Response {
    let catalog = &ctx.state.catalog;
    let Some(collection) = catalog.collection(name) else {
        return no_handler(ctx.req);
    };
    let filters = match ctx
        .req
        .params_all("filter")
        .into_iter()
        .map(Filter::parse)
        .collect::<Result<Vec<_>, _>>()
    {
        Ok(filters) => filters,
        Err(message) => return WebMessage::error(400, message).into_response(),
    };
    let any_filter = ctx
        .req
        .param("rootJunction")
        .is_some_and(|j| j.eq_ignore_ascii_case("OR"));
    let mut objects: Vec<&Value> = collection
        .objects
        .iter()
        .filter(|o| {
            filters.is_empty()
                || if any_filter {
                    filters.iter().any(|f| f.matches(o, catalog))
                } else {
                    filters.iter().all(|f| f.matches(o, catalog))
                }
        })
        .filter(|o| collection_specific_filter(ctx, collection, o))
        .collect();
    if let Some(order) = ctx.req.param("order") {
        sort(&mut objects, order);
    }
    let fields = fields::parse(ctx.req.param("fields").unwrap_or(DEFAULT_LIST_FIELDS));
    let mut body = Map::new();
    let paging = ctx.req.flag("paging").unwrap_or(true);
    let shown: Vec<&Value> = if paging {
        let (pager, page) = paginate(ctx, &objects);
        body.insert("pager".into(), pager);
        page
    } else {
        objects
    };
    let selected: Vec<Value> = shown
        .iter()
        .map(|o| fields::select(o, &fields, catalog))
        .collect();
    body.insert(name.to_owned(), Value::Array(selected));
    json_response(200, &Value::Object(body))
}

pub fn get(ctx: &Ctx, name: &str, id: &str) -> Response {
    let catalog = &ctx.state.catalog;
    let Some(collection) = catalog.collection(name) else {
        return no_handler(ctx.req);
    };
    match collection.objects.iter().find(|o| o["id"] == id) {
        Some(object) => {
            let fields = fields::parse(ctx.req.param("fields").unwrap_or("*"));
            json_response(200, &fields::select(object, &fields, catalog))
        }
        None => not_found(ctx, collection.type_name, id),
    }
}

/// `404 "<Type> with id <id> could not be found."`, with `errorCode: E1005` from 2.40.
pub fn not_found(ctx: &Ctx, type_name: &str, id: &str) -> Response {
    let message = WebMessage::error(404, format!("{type_name} with id {id} could not be found."));
    let message = if ctx.version.has_not_found_error_code() {
        message.error_code("E1005")
    } else {
        message
    };
    message.into_response()
}

/// Parameters only some collections take: org units' `level` and `userOnly`.
fn collection_specific_filter(ctx: &Ctx, collection: &Collection, object: &Value) -> bool {
    if collection.name != "organisationUnits" {
        return true;
    }
    let level_ok = ctx
        .req
        .param("level")
        .and_then(|l| l.parse::<u64>().ok())
        .is_none_or(|level| object["level"].as_u64() == Some(level));
    let user_only = ctx.req.flag("userOnly").unwrap_or(false);
    let mine = || {
        object["id"]
            .as_str()
            .is_some_and(|id| ctx.user.organisation_units.iter().any(|ou| ou == id))
    };
    level_ok && (!user_only || mine())
}

/// `order=name:asc,code:desc` on top-level properties.
fn sort(objects: &mut [&Value], order: &str) {
    let keys: Vec<(String, bool)> = order
        .split(',')
        .map(|part| {
            let (key, direction) = part.split_once(':').unwrap_or((part, "asc"));
            (
                key.to_owned(),
                direction.eq_ignore_ascii_case("desc") || direction.eq_ignore_ascii_case("idesc"),
            )
        })
        .collect();
    objects.sort_by(|a, b| {
        keys.iter()
            .map(|(key, descending)| {
                let text = |v: &Value| {
                    v.get(key)
                        .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_owned))
                };
                let ordering = match (text(a), text(b)) {
                    (Some(x), Some(y)) => compare(&x, &y),
                    (x, y) => x.is_some().cmp(&y.is_some()).reverse(),
                };
                if *descending {
                    ordering.reverse()
                } else {
                    ordering
                }
            })
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    });
}

/// Slices one page and builds the `pager` (`nextPage`/`prevPage` are full URLs).
fn paginate<'a>(ctx: &Ctx, objects: &[&'a Value]) -> (Value, Vec<&'a Value>) {
    let page_size = ctx
        .req
        .param("pageSize")
        .and_then(|s| s.parse::<usize>().ok())
        .filter(|&s| s > 0)
        .unwrap_or(DEFAULT_PAGE_SIZE);
    let page = ctx
        .req
        .param("page")
        .and_then(|p| p.parse::<usize>().ok())
        .filter(|&p| p > 0)
        .unwrap_or(1);
    let total = objects.len();
    let page_count = total.div_ceil(page_size).max(1);
    let shown = objects
        .iter()
        .skip((page - 1) * page_size)
        .take(page_size)
        .copied()
        .collect();
    let mut pager = Map::new();
    pager.insert("page".into(), json!(page));
    pager.insert("pageCount".into(), json!(page_count));
    pager.insert("total".into(), json!(total));
    pager.insert("pageSize".into(), json!(page_size));
    if page < page_count {
        pager.insert("nextPage".into(), json!(page_url(ctx, page + 1)));
    }
    if page > 1 {
        pager.insert("prevPage".into(), json!(page_url(ctx, page - 1)));
    }
    (Value::Object(pager), shown)
}

fn page_url(ctx: &Ctx, page: usize) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (key, value) in ctx.req.params.iter().filter(|(k, _)| k != "page") {
        query.append_pair(key, value);
    }
    query.append_pair("page", &page.to_string());
    format!("{}{}?{}", ctx.base_url(), ctx.req.path, query.finish())
}
