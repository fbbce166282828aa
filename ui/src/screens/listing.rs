//! One listing: photo gallery (from the device's photo cache), every attribute, description,
//! coordinates as text; "send to client" and "create lead" in the aside.

use leptos::prelude::*;
use leptos::task::spawn_local;
use roost_api::listings::Listing;
use uuid::Uuid;

use super::{Ctx, actions};
use crate::bridge::invoke;
use crate::format;

#[component]
pub fn ListingDetail(id: Uuid) -> impl IntoView {
    let ctx = Ctx::get();
    let listing = RwSignal::new(None::<Result<Listing, String>>);
    spawn_local(async move {
        listing.set(Some(
            invoke::<_, Listing>("listing", &serde_json::json!({ "id": id })).await,
        ));
    });
    let to = ctx.back.get_untracked();
    let back = move |_| ctx.route.set(to);
    view! {
        <article class="detail">
            <button class="link back" id="back" on:click=back>{super::back_label(to)}</button>
            {move || match listing.get() {
                None => view! { <p class="muted">"Loading…"</p> }.into_any(),
                Some(Err(e)) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
                Some(Ok(l)) => view! { <Detail listing=l/> }.into_any(),
            }}
        </article>
    }
}

#[component]
fn Detail(listing: Listing) -> impl IntoView {
    let ctx = Ctx::get();
    let base = ctx.photo_base();
    let id = listing.id;
    let photos: Vec<String> = (0..listing.photos.len())
        .map(|i| format!("{base}/{id}/{i}"))
        .collect();
    let count = photos.len();
    let current = RwSignal::new(0usize);
    let main_src = {
        let photos = photos.clone();
        move || photos.get(current.get()).cloned()
    };
    let step = move |delta: isize| {
        if count > 0 {
            current.update(|c| *c = (*c as isize + delta).rem_euclid(count as isize) as usize);
        }
    };
    let keys = move |ev: leptos::ev::KeyboardEvent| match ev.key().as_str() {
        "ArrowRight" => step(1),
        "ArrowLeft" => step(-1),
        _ => {}
    };
    let price = listing
        .price
        .as_ref()
        .map(format::price)
        .unwrap_or_else(|| "Price on request".into());
    let rows = fact_rows(&listing);
    let description = listing.description.clone().unwrap_or_default();

    view! {
        <div class="detail-grid">
            <section class="gallery" tabindex="0" aria-label="Photos; left and right arrows to browse" on:keydown=keys>
                {move || match main_src() {
                    Some(src) => view! { <img id="photo-main" class="photo-main" src=src alt="Listing photo"/> }.into_any(),
                    None => view! { <div class="photo-main photo-none">"No photos"</div> }.into_any(),
                }}
                <Show when=move || { count > 1 }>
                    <div class="thumbs">
                        {photos.iter().enumerate().map(|(i, src)| view! {
                            <button class="thumb" class:active=move || current.get() == i
                                aria-label=format!("Photo {} of {count}", i + 1)
                                on:click=move |_| current.set(i)>
                                <img src=src.clone() alt=""/>
                            </button>
                        }).collect_view()}
                    </div>
                </Show>
            </section>
            <section class="facts-panel">
                <div class="detail-price" id="detail-price">{price}</div>
                <h1 class="detail-title" id="detail-title">{format::title(&listing)}</h1>
                <p class="detail-facts">{format::facts(&listing)}</p>
                <p class="muted">{format::place(&listing)}</p>
                <div class="detail-actions">
                    <button class="primary" id="send-to-client"
                        on:click=move |_| actions::state().open_send(vec![id], false)>"Send to client"</button>
                    <button id="create-lead"
                        on:click=move |_| actions::state().open_lead(vec![id])>"Create lead"</button>
                </div>
                <dl class="attributes">
                    {rows.into_iter().map(|(k, v)| view! { <dt>{k}</dt><dd>{v}</dd> }).collect_view()}
                </dl>
            </section>
            <section class="description">
                <h2>"Description"</h2>
                <p>{if description.is_empty() { "No description.".to_string() } else { description }}</p>
            </section>
        </div>
    }
}

/// Every attribute the listing has, named for people.
fn fact_rows(l: &Listing) -> Vec<(String, String)> {
    let mut rows: Vec<(String, String)> = vec![];
    let mut push = |k: &str, v: Option<String>| {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            rows.push((k.to_string(), v));
        }
    };
    push("Reference", Some(l.external_id.clone()));
    push("Type", l.property_type.as_deref().map(format::capitalise));
    push("Status", l.status.as_deref().map(format::capitalise));
    push("Bedrooms", l.bedrooms.map(format::beds));
    push("Bathrooms", l.bathrooms.map(format::baths));
    push("Size", l.size.as_ref().map(format::area));
    push("Community", l.community.clone());
    push("City", l.city.clone());
    push(
        "Furnished",
        l.furnished
            .map(|f| if f { "Yes" } else { "No" }.to_string()),
    );
    push("Listed", l.listed_at.clone());
    if let (Some(lat), Some(lon)) = (l.latitude, l.longitude) {
        push("Location", Some(format!("{lat:.5}, {lon:.5}")));
    }
    for (k, v) in &l.attributes {
        push(k, Some(v.clone()));
    }
    rows
}
