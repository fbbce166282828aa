//! Search and browse: one box that understands "3 bed villa under 4M in Arabian Ranches",
//! filter controls that show what was read from it, facet counts, cards, more on demand. Cards
//! can be picked (up to a showcase's worth) to send to a client or link to a lead.

use leptos::prelude::*;
use leptos::task::spawn_local;
use roost_api::app::{SEARCH_MODEL_EVENT, SearchQuery, SearchView};
use roost_api::listings::Listing;
use roost_api::search::Filters;
use uuid::Uuid;

use super::{Ctx, Route, actions};
use crate::bridge::invoke;
use crate::form::{FilterForm, amount_hint, chips};
use crate::format;

const PAGE: usize = 24;

#[derive(Clone, Copy)]
struct SearchState {
    text: RwSignal<String>,
    form: RwSignal<FilterForm>,
    view: RwSignal<Option<SearchView>>,
    cards: RwSignal<Vec<Listing>>,
    error: RwSignal<Option<String>>,
    generation: RwSignal<u64>,
    /// A search is on its way to the shell; keystrokes meanwhile only mark `pending`.
    busy: RwSignal<bool>,
    pending: RwSignal<bool>,
    show_filters: RwSignal<bool>,
}

/// Called by the shell, so the search survives opening a listing and coming back.
pub fn provide_state() {
    let s = SearchState {
        text: RwSignal::new(String::new()),
        form: RwSignal::new(FilterForm::default()),
        view: RwSignal::new(None),
        cards: RwSignal::new(vec![]),
        error: RwSignal::new(None),
        generation: RwSignal::new(0),
        busy: RwSignal::new(false),
        pending: RwSignal::new(false),
        show_filters: RwSignal::new(false),
    };
    provide_context(s);
    // Results ranked while the search model was loading: ask again now that it is ready,
    // so they gain semantic ranking. A search still on its way may have been ranked without
    // the model too (the model can be ready before its answer arrives): `run` then only marks
    // a search pending, which goes once that answer is in.
    let ctx = Ctx::get();
    spawn_local(async move {
        crate::bridge::listen::<serde_json::Value>(SEARCH_MODEL_EVENT, move |_| {
            let loading = s
                .view
                .with_untracked(|v| v.as_ref().is_some_and(|v| v.model_loading));
            if loading || s.busy.get_untracked() {
                run(s, ctx.currency(), true, false);
            }
        })
        .await;
    });
}

fn state() -> SearchState {
    expect_context::<SearchState>()
}

/// Runs the search for the current text and controls; `more` appends the next page. Older
/// answers that arrive late are dropped.
///
/// Typing (`coalesce`) searches at once when nothing is in flight, so the first keystroke is
/// answered in milliseconds; keystrokes that come while a search runs collapse into one
/// search for the latest text when it returns. No fixed debounce delay.
fn run(s: SearchState, currency: String, coalesce: bool, more: bool) {
    if coalesce && s.busy.get_untracked() {
        s.pending.set(true);
        return;
    }
    let generation = s.generation.get_untracked() + 1;
    s.generation.set(generation);
    let filters = match s.form.get_untracked().to_filters(&currency) {
        Ok(f) => f,
        Err(e) => {
            s.error.set(Some(e));
            return;
        }
    };
    let offset = if more {
        s.cards.with_untracked(Vec::len)
    } else {
        0
    };
    let query = SearchQuery {
        text: s.text.get_untracked(),
        filters,
        offset,
        limit: PAGE,
    };
    let text = query.text.clone();
    s.busy.set(true);
    spawn_local(async move {
        let answer = fetch(query).await;
        s.busy.set(false);
        if s.pending.get_untracked() {
            s.pending.set(false);
            run(s, currency, true, false);
        }
        if s.generation.get_untracked() != generation {
            return;
        }
        match answer {
            Ok((view, cards)) => {
                s.error.set(None);
                if more {
                    s.cards.update(|c| c.extend(cards));
                } else {
                    s.cards.set(cards);
                }
                s.view.set(Some(view));
                crate::bridge::first_mark("roost-cards-rendered");
                crate::bridge::mark_rendered(&text);
            }
            Err(e) => s.error.set(Some(e)),
        }
    });
}

/// The search, then the listings of its page: the shell returns ids, the UI asks for what
/// it shows.
async fn fetch(query: SearchQuery) -> Result<(SearchView, Vec<Listing>), String> {
    crate::bridge::first_mark("roost-search-asked");
    let view = invoke::<_, SearchView>("search", &serde_json::json!({ "query": query })).await?;
    crate::bridge::first_mark("roost-search-answered");
    let ids: Vec<Uuid> = view.results.hits.iter().map(|h| h.id).collect();
    let cards = invoke::<_, Vec<Listing>>("listings", &serde_json::json!({ "ids": ids })).await?;
    crate::bridge::first_mark("roost-cards-fetched");
    Ok((view, cards))
}

#[component]
pub fn Search() -> impl IntoView {
    let ctx = Ctx::get();
    let s = state();
    let currency = Memo::new(move |_| ctx.currency());
    if s.view.get_untracked().is_none() {
        run(s, currency.get_untracked(), false, false);
    }
    // Fresh data after a sync: search again with what is on screen.
    Effect::new(move |prev: Option<u64>| {
        let listings = ctx.sync.with(|x| x.listings);
        if prev.is_some_and(|p| p != listings) {
            run(s, currency.get_untracked(), false, false);
        }
        listings
    });

    let input_ref = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if let Some(input) = input_ref.get() {
            let _ = input.focus();
        }
    });

    let applied = move || {
        s.view
            .with(|v| v.as_ref().map(|v| v.results.filters.clone()))
    };
    let total = move || {
        s.view
            .with(|v| v.as_ref().map(|v| v.results.total).unwrap_or(0))
    };

    view! {
        <section class="search">
            <div class="searchbar">
                <input id="search" type="search" node_ref=input_ref
                    aria-label="Search listings"
                    placeholder="Try “3 bed villa under 4M in Arabian Ranches”"
                    prop:value=move || s.text.get()
                    on:input=move |ev| {
                        s.text.set(event_target_value(&ev));
                        run(s, currency.get_untracked(), true, false);
                    }/>
                <button class="filters-toggle" id="filters-toggle"
                    aria-expanded=move || s.show_filters.get().to_string()
                    on:click=move |_| s.show_filters.update(|v| *v = !*v)>"Filters"</button>
            </div>
            <div class="filters" class:open=move || s.show_filters.get()>
                <FilterControls s=s currency=currency/>
            </div>
            <div class="summary" aria-live="polite">
                <span id="result-count">{move || format::count(total(), "listing", "listings")}</span>
                <span class="muted">{move || s.view.with(|v| v.as_ref().map(|v| format!(" · {:.0} ms", v.took_ms.max(1.0))))}</span>
                // Ranked by words and filters while the search model loads; the same search
                // comes again with it in a moment.
                <span class="muted" id="ranking-note">{move || s.view.with(|v| v.as_ref().is_some_and(|v| v.model_loading).then_some(" · refining…"))}</span>
                <ul class="chips" id="chips">
                    {move || applied().map(|f| chips(&f)).unwrap_or_default().into_iter()
                        .map(|c| view! { <li class="chip">{c}</li> }).collect_view()}
                </ul>
            </div>
            <BedroomFacets s=s currency=currency/>
            <p class="error" role="alert">{move || s.error.get()}</p>
            <ul class="cards" id="results"
                data-semantic=move || s.view.with(|v| v.as_ref().is_some_and(|v| v.results.ranking.semantic).to_string())>
                <For each=move || s.cards.get() key=|l| l.id children=move |l| view! { <Card listing=l/> }/>
            </ul>
            <Show when=move || s.view.with(|v| v.is_some()) && s.cards.with(Vec::is_empty)>
                <p class="empty">"No listings match. Loosen a filter or try other words."</p>
            </Show>
            <Show when=move || (s.cards.with(Vec::len) as u64) < total()>
                <button class="more" id="more" on:click=move |_| run(s, currency.get_untracked(), false, true)>"Show more"</button>
            </Show>
            <SelectionBar/>
        </section>
    }
}

#[component]
fn Card(listing: Listing) -> impl IntoView {
    let ctx = Ctx::get();
    let a = actions::state();
    let id = listing.id;
    let photo = ctx.cover(&listing);
    let price = listing
        .price
        .as_ref()
        .map(format::price)
        .unwrap_or_else(|| "Price on request".into());
    let title = format::title(&listing);
    let picked = move || a.is_selected(id);
    view! {
        <li class="card-item" class:selected=picked>
            <button class="card" data-id=id.to_string() on:click=move |_| ctx.route.set(Route::Listing(id))>
                <div class="card-photo">
                    {photo.map(|src| view! { <img src=src alt="" loading="lazy"/> })}
                </div>
                <div class="card-body">
                    <div class="card-price">{price}</div>
                    <div class="card-title">{title.clone()}</div>
                    <div class="card-facts">{format::facts(&listing)}</div>
                    <div class="card-place muted">{format::place(&listing)}</div>
                </div>
            </button>
            <button type="button" class="card-select" data-id=id.to_string()
                role="checkbox" aria-checked=move || picked().to_string()
                aria-label=format!("Pick {title}")
                title=move || if picked() { "Picked — click to drop" } else { "Pick to send or link to a lead" }
                on:click=move |_| a.toggle(id)>
                <svg viewBox="0 0 24 24" width="16" height="16" aria-hidden="true"><path d="M5 12.5l4.5 4.5L19 7.5"/></svg>
            </button>
        </li>
    }
}

/// The picked results: how many, send them, make a lead of them, or start over.
#[component]
fn SelectionBar() -> impl IntoView {
    let a = actions::state();
    let count = move || a.selected.with(Vec::len);
    view! {
        <Show when=move || { count() > 0 }>
            <div class="selection-bar" id="selection-bar" role="region" aria-label="Picked listings">
                <span class="selection-count" id="selection-count">{move || format!("{} selected", count())}</span>
                <span class="selection-note" id="selection-note" role="status">{move || a.selection_note.get()}</span>
                <div class="selection-buttons">
                    <button type="button" class="link" id="clear-selection" on:click=move |_| a.clear_selection()>"Clear"</button>
                    <button type="button" id="lead-selection"
                        on:click=move |_| a.open_lead(a.selected.get_untracked())>"Create lead"</button>
                    <button type="button" class="primary" id="send-selection"
                        on:click=move |_| a.open_send(a.selected.get_untracked(), true)>"Send to client"</button>
                </div>
            </div>
        </Show>
    }
}

/// "Studio 12 · 1 bed 40 · 2 beds 51 …": counts under the other filters, one tap to pick.
#[component]
fn BedroomFacets(s: SearchState, currency: Memo<String>) -> impl IntoView {
    let facets = move || {
        s.view.with(|v| {
            v.as_ref()
                .map(|v| v.facets.bedrooms.clone())
                .unwrap_or_default()
        })
    };
    view! {
        <div class="facets" aria-label="Bedrooms">
            {move || facets().into_iter().map(|f| {
                let n = f.value;
                let active = move || s.view.with(|v| v.as_ref().is_some_and(|v| {
                    v.results.filters.bedrooms.min == Some(n) && v.results.filters.bedrooms.max == Some(n)
                }));
                view! {
                    <button class="facet" class:active=active
                        on:click=move |_| {
                            s.form.update(|f| { f.beds_min = Some(n); f.beds_max = Some(n); });
                            run(s, currency.get_untracked(), false, false);
                        }>
                        {format::beds(n)}<span class="count">{f.count}</span>
                    </button>
                }
            }).collect_view()}
        </div>
    }
}

#[component]
fn FilterControls(s: SearchState, currency: Memo<String>) -> impl IntoView {
    // What a control shows: the applied value (set by hand or read from the text).
    let applied = move || -> Filters {
        s.view.with(|v| {
            v.as_ref()
                .map(|v| v.results.filters.clone())
                .unwrap_or_default()
        })
    };
    let set = move |f: Box<dyn FnOnce(&mut FilterForm)>| {
        s.form.update(f);
        run(s, currency.get_untracked(), true, false);
    };
    let price = move |min: bool| {
        move || {
            let form = s.form.get();
            let typed = if min { form.price_min } else { form.price_max };
            if !typed.is_empty() {
                return typed;
            }
            let p = applied().price;
            amount_hint(
                p.and_then(|p| if min { p.min_minor } else { p.max_minor }),
                &currency.get(),
            )
        }
    };
    let beds = |value: Option<u16>| value.map(|v| v.to_string()).unwrap_or_default();
    let facet_options = move |types: bool| {
        s.view.with(|v| {
            v.as_ref()
                .map(|v| {
                    if types {
                        v.facets.property_types.clone()
                    } else {
                        v.facets.communities.clone()
                    }
                })
                .unwrap_or_default()
        })
    };
    let selected_text = move |types: bool| {
        let f = applied();
        let list = if types {
            f.property_types
        } else {
            f.communities
        };
        list.first().cloned().unwrap_or_default()
    };

    view! {
        <div class="filter-grid">
            <label>"Min price"
                <input id="price-min" inputmode="decimal" placeholder="any"
                    prop:value=price(true)
                    on:change=move |ev| { let v = event_target_value(&ev); set(Box::new(move |f| f.price_min = v)); }/>
            </label>
            <label>"Max price"
                <input id="price-max" inputmode="decimal" placeholder="any"
                    prop:value=price(false)
                    on:change=move |ev| { let v = event_target_value(&ev); set(Box::new(move |f| f.price_max = v)); }/>
            </label>
            <label>"Min beds"
                <select id="beds-min" prop:value=move || beds(applied().bedrooms.min)
                    on:change=move |ev| { let v = event_target_value(&ev).parse().ok(); set(Box::new(move |f| f.beds_min = v)); }>
                    <option value="">"Any"</option>
                    {(0..=7u16).map(|n| view! { <option value=n.to_string()>{format::beds(n)}</option> }).collect_view()}
                </select>
            </label>
            <label>"Max beds"
                <select id="beds-max" prop:value=move || beds(applied().bedrooms.max)
                    on:change=move |ev| { let v = event_target_value(&ev).parse().ok(); set(Box::new(move |f| f.beds_max = v)); }>
                    <option value="">"Any"</option>
                    {(0..=7u16).map(|n| view! { <option value=n.to_string()>{format::beds(n)}</option> }).collect_view()}
                </select>
            </label>
            <label>"Baths"
                <select id="baths-min" prop:value=move || applied().bathrooms_min.map(|b| b.to_string()).unwrap_or_default()
                    on:change=move |ev| { let v = event_target_value(&ev).parse().ok(); set(Box::new(move |f| f.baths_min = v)); }>
                    <option value="">"Any"</option>
                    {(1..=5u16).map(|n| view! { <option value=n.to_string()>{format!("{n}+")}</option> }).collect_view()}
                </select>
            </label>
            <label>"Type"
                <select id="type" prop:value=move || selected_text(true)
                    on:change=move |ev| { let v = event_target_value(&ev); set(Box::new(move |f| f.property_type = v)); }>
                    <option value="">"Any type"</option>
                    {move || facet_options(true).into_iter().map(|f| view! {
                        <option value=f.value.clone()>{format!("{} ({})", format::capitalise(&f.value), f.count)}</option>
                    }).collect_view()}
                </select>
            </label>
            <label>"Area"
                <select id="community" prop:value=move || selected_text(false)
                    on:change=move |ev| { let v = event_target_value(&ev); set(Box::new(move |f| f.community = v)); }>
                    <option value="">"Any area"</option>
                    {move || facet_options(false).into_iter().map(|f| view! {
                        <option value=f.value.clone()>{format!("{} ({})", f.value, f.count)}</option>
                    }).collect_view()}
                </select>
            </label>
            <label>"Min size (sq ft)"
                <input id="size-min" inputmode="numeric" placeholder="any"
                    prop:value=move || { let t = s.form.get().size_min; if t.is_empty() { applied().size_sqft.min.map(|v| format!("{v:.0}")).unwrap_or_default() } else { t } }
                    on:change=move |ev| { let v = event_target_value(&ev); set(Box::new(move |f| f.size_min = v)); }/>
            </label>
            <label>"Max size (sq ft)"
                <input id="size-max" inputmode="numeric" placeholder="any"
                    prop:value=move || { let t = s.form.get().size_max; if t.is_empty() { applied().size_sqft.max.map(|v| format!("{v:.0}")).unwrap_or_default() } else { t } }
                    on:change=move |ev| { let v = event_target_value(&ev); set(Box::new(move |f| f.size_max = v)); }/>
            </label>
            <button class="link" id="clear-filters"
                on:click=move |_| { s.form.set(FilterForm::default()); s.text.set(String::new()); run(s, currency.get_untracked(), false, false); }>
                "Clear all"
            </button>
        </div>
    }
}
