//! The demo tenant `cargo xtask demo` starts with: a company and one user per role.

pub mod photos;

use roost_api::imports::{ImportKind, ImportMode, Validation};
use roost_api::tenants::{ContactPerson, Tier};
use roost_api::users::Role;
use roost_db::{Actor, Ctx, DbError, NewTenant};

use crate::imports::ImportRequest;

use crate::state::AppState;
use crate::tokens::hash_password_async;

pub const SLUG: &str = "demo";

/// (email, name, roles, password). Demo-only credentials, printed at start-up.
pub const USERS: &[(&str, &str, &[Role], &str)] = &[
    (
        "admin@demo.roost.test",
        "Amira Admin",
        &[Role::Admin, Role::Manager, Role::Agent],
        "demo-admin-pass",
    ),
    (
        "manager@demo.roost.test",
        "Marco Manager",
        &[Role::Manager, Role::Agent],
        "demo-manager-pass",
    ),
    (
        "agent@demo.roost.test",
        "Aisha Agent",
        &[Role::Agent],
        "demo-agent-pass",
    ),
];

/// Creates the demo tenant and its users unless it exists. Returns whether it created it.
pub async fn seed(state: &AppState) -> anyhow::Result<bool> {
    if state.db.tenant_by_slug(SLUG).await?.is_some() {
        return Ok(false);
    }
    let (admin_email, admin_name, _, admin_pw) = USERS[0];
    let contact = ContactPerson {
        name: admin_name.into(),
        email: admin_email.into(),
        phone: Some("+971 4 000 0000".into()),
    };
    let hash = hash_password_async(admin_pw.into()).await;
    let (tenant, admin_id) = state
        .db
        .create_tenant(
            NewTenant {
                slug: SLUG,
                company_name: "Roost Demo Realty",
                industry: "real estate",
                region: "Dubai, UAE",
                employee_count: 25,
                contact: &contact,
                tier: Tier::Professional,
                admin_password_hash: &hash,
            },
            None,
        )
        .await?;
    let ctx = Ctx {
        tenant: tenant.id,
        actor: Actor {
            user_id: Some(admin_id),
            device_id: None,
            ip: None,
        },
    };
    state
        .db
        .update_user(
            &ctx,
            admin_id,
            roost_db::UserPatch {
                roles: Some(USERS[0].2.to_vec()),
                ..Default::default()
            },
        )
        .await?;
    let mut config = state.db.config(tenant.id).await?;
    config.config.company_info.currency = Some("AED".into());
    config.config.knowledge_base.regions = vec!["Dubai".into()];
    state
        .db
        .put_config(&ctx, config.version, &config.config)
        .await?;
    for (email, name, roles, pw) in &USERS[1..] {
        let hash = hash_password_async((*pw).into()).await;
        match state.db.create_user(&ctx, email, name, &hash, roles).await {
            Ok(_) | Err(DbError::Conflict(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    seed_data(state, &ctx).await?;
    Ok(true)
}

/// Listings, clients, market figures and team resources, through the same import path a
/// company's files take.
async fn seed_data(state: &AppState, ctx: &Ctx) -> anyhow::Result<()> {
    let photos = seed_photos(state, ctx).await?;
    let files = [
        (
            ImportKind::Properties,
            "demo-listings.csv",
            demo_listings(300, &photos),
        ),
        (
            ImportKind::Clients,
            "demo-clients.csv",
            DEMO_CLIENTS.to_string(),
        ),
        (
            ImportKind::MarketIntelligence,
            "demo-market.json",
            DEMO_MARKET.to_string(),
        ),
        (
            ImportKind::AgentResources,
            "demo-resources.json",
            DEMO_RESOURCES.to_string(),
        ),
        (
            ImportKind::Employees,
            "demo-team.csv",
            DEMO_TEAM.to_string(),
        ),
    ];
    for (kind, name, text) in files {
        let req = ImportRequest {
            kind,
            file_name: name.to_string(),
            bytes: text.into_bytes(),
            mapping: None,
            dry_run: false,
            validation: Validation::Strict,
            mode: ImportMode::Upsert,
        };
        crate::imports::run(state, ctx, req)
            .await
            .map_err(|e| anyhow::anyhow!("demo {name}: {e:?}"))?;
    }
    Ok(())
}

/// Photos drawn per scene; listings reuse them (2–4 each).
const PHOTOS_PER_SCENE: usize = 10;

/// The media paths of the demo's photos, by scene.
#[derive(Debug, Default)]
pub struct DemoPhotos {
    pub villas: Vec<String>,
    pub towers: Vec<String>,
    pub interiors: Vec<String>,
}

/// Draws the photo pool (on the blocking pool, one thread per core) and stores it in the
/// tenant's media, as an upload would.
async fn seed_photos(state: &AppState, ctx: &Ctx) -> anyhow::Result<DemoPhotos> {
    let started = std::time::Instant::now();
    let jobs: Vec<(photos::Scene, u64)> = photos::Scene::ALL
        .into_iter()
        .flat_map(|scene| (0..PHOTOS_PER_SCENE as u64).map(move |seed| (scene, seed)))
        .collect();
    let rendered = tokio::task::spawn_blocking(move || render_all(&jobs)).await?;
    let drawn = started.elapsed();
    let mut out = DemoPhotos::default();
    for (scene, jpeg) in rendered {
        let (media, _) = crate::routes::media::store_image(state, ctx, &jpeg)
            .await
            .map_err(|e| anyhow::anyhow!("demo photo: {}", e.message))?;
        match scene {
            photos::Scene::Villa => out.villas.push(media.url),
            photos::Scene::Tower => out.towers.push(media.url),
            photos::Scene::Interior => out.interiors.push(media.url),
        }
    }
    tracing::info!(
        photos = PHOTOS_PER_SCENE * photos::Scene::ALL.len(),
        drawn_ms = drawn.as_millis() as u64,
        total_ms = started.elapsed().as_millis() as u64,
        "demo photos stored"
    );
    Ok(out)
}

/// Renders `jobs` in order, split over the available cores.
fn render_all(jobs: &[(photos::Scene, u64)]) -> Vec<(photos::Scene, Vec<u8>)> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = jobs.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = jobs
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|&(scene, seed)| (scene, photos::render(scene, seed)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("drawing a photo does not panic"))
            .collect()
    })
}

/// Photos of listing `i` of `kind`: exteriors that fit the type, then interiors (none for
/// offices), 2–4 in all, joined for the CSV cell.
fn listing_photos(i: usize, kind: &str, photos: &DemoPhotos) -> String {
    let outside = match kind {
        "Villa" | "Townhouse" => &photos.villas,
        _ => &photos.towers,
    };
    if outside.is_empty() {
        return String::new();
    }
    let inside = if kind == "Office" || photos.interiors.is_empty() {
        outside
    } else {
        &photos.interiors
    };
    let picks = [
        &outside[(i * 7) % outside.len()],
        &inside[(i * 5 + 1) % inside.len()],
        &outside[(i * 7 + 5) % outside.len()],
        &inside[(i * 5 + 4) % inside.len()],
    ];
    let count = 2 + i % 3;
    picks[..count]
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join("|")
}

const COMMUNITIES: &[(&str, &[&str], u64)] = &[
    // (community, property types, typical price per sqft in AED)
    ("Dubai Marina", &["Apartment", "Penthouse"], 1_900),
    ("Arabian Ranches", &["Villa", "Townhouse"], 1_450),
    (
        "Jumeirah Village Circle",
        &["Apartment", "Townhouse"],
        1_150,
    ),
    ("Downtown Dubai", &["Apartment", "Penthouse"], 2_600),
    ("Palm Jumeirah", &["Villa", "Apartment"], 3_400),
    ("Business Bay", &["Apartment", "Office"], 1_800),
    (
        "Dubai Hills Estate",
        &["Villa", "Apartment", "Townhouse"],
        2_100,
    ),
    ("Jumeirah Lake Towers", &["Apartment", "Office"], 1_300),
];

const FEATURES: &[&str] = &[
    "private pool",
    "sea view",
    "maid's room",
    "landscaped garden",
    "study",
    "upgraded kitchen",
    "balcony with skyline view",
    "walk to metro",
    "pets allowed",
    "vacant on transfer",
];

/// A deterministic, realistic listings CSV (no randomness: the demo is the same every time),
/// with photos from `photos`.
pub fn demo_listings(n: usize, photos: &DemoPhotos) -> String {
    let mut csv = String::from(
        "Reference,Title,Property Type,Community,City,Bedrooms,Bathrooms,Size (sqft),Price (AED),Status,Furnished,Description,View,Photos\n",
    );
    for i in 0..n {
        let (community, types, per_sqft) = COMMUNITIES[i % COMMUNITIES.len()];
        let kind = types[(i / COMMUNITIES.len()) % types.len()];
        let beds = match kind {
            "Office" => 0,
            "Villa" => 3 + (i % 4),
            "Townhouse" => 2 + (i % 3),
            "Penthouse" => 3 + (i % 3),
            _ => i % 4,
        };
        let size = match kind {
            "Villa" => 2_800 + (i * 137) % 4_000,
            "Townhouse" => 1_700 + (i * 91) % 1_200,
            "Office" => 900 + (i * 53) % 3_000,
            _ => 450 + beds * 520 + (i * 29) % 300,
        };
        let price = (size as u64 * per_sqft * (90 + (i as u64 * 7) % 25) / 100) / 1_000 * 1_000;
        let status = if i % 5 == 0 { "For Rent" } else { "For Sale" };
        let price = if status == "For Rent" {
            price / 18 / 1_000 * 1_000
        } else {
            price
        };
        let feature_a = FEATURES[i % FEATURES.len()];
        let feature_b = FEATURES[(i * 3 + 1) % FEATURES.len()];
        let bed_words = if beds == 0 && kind != "Office" {
            "Studio".to_string()
        } else {
            format!("{beds} bed")
        };
        let title = if kind == "Office" {
            format!("Fitted office in {community}")
        } else {
            format!("{bed_words} {} in {community}", kind.to_lowercase())
        };
        let description = format!(
            "{title} with {feature_a} and {feature_b}. {size} sqft, {} parking, close to schools and retail.",
            1 + i % 2
        );
        csv.push_str(&format!(
            "RD-{:04},\"{title}\",{kind},{community},Dubai,{},{},{size},{price},{status},{},\"{description}\",{},{}\n",
            i + 1,
            if kind == "Office" { String::new() } else { beds.to_string() },
            1 + beds.max(1) - usize::from(beds > 3),
            if i % 3 == 0 { "Yes" } else { "No" },
            ["Sea", "Garden", "City", "Community", "Golf"][i % 5],
            listing_photos(i, kind, photos),
        ));
    }
    csv
}

const DEMO_CLIENTS: &str = "Client Ref,Full Name,Email,Mobile,Budget (AED),Preferred Areas,Assigned Agent,Stage\n\
DC-001,Layla Haddad,layla.haddad@example.com,+971 50 123 4567,2.5M,Dubai Marina; Palm Jumeirah,agent@demo.roost.test,Active\n\
DC-002,Ivan Petrov,ivan.petrov@example.com,+971 55 765 4321,1.2M - 1.8M,Jumeirah Village Circle,agent@demo.roost.test,Lead\n\
DC-003,Priya Nair,priya.nair@example.com,+971 52 222 3344,6M,Arabian Ranches; Dubai Hills Estate,manager@demo.roost.test,Prospect\n";

const DEMO_MARKET: &str = r#"{ "currency": "AED", "source": "Roost demo data (illustrative)", "items": [
  { "area": "Jumeirah Village Circle", "city": "Dubai", "period": "2026-Q3", "property_type": "Apartment", "bedrooms": 2,
    "median_price": "AED 1.15M", "median_price_per_sqft": 1210, "average_rent": 95000, "gross_yield_pct": 7.4,
    "transactions": 312, "price_change_pct": 2.1, "days_on_market": 41 },
  { "area": "Dubai Marina", "city": "Dubai", "period": "2026-Q3", "property_type": "Apartment", "bedrooms": 2,
    "median_price": "AED 2.4M", "median_price_per_sqft": 1930, "average_rent": 165000, "gross_yield_pct": 6.1,
    "transactions": 205, "price_change_pct": 3.4, "days_on_market": 35 },
  { "area": "Arabian Ranches", "city": "Dubai", "period": "2026-Q3", "property_type": "Villa", "bedrooms": 4,
    "median_price": "AED 5.6M", "median_price_per_sqft": 1480, "average_rent": 320000, "gross_yield_pct": 5.2,
    "transactions": 64, "price_change_pct": 4.8, "days_on_market": 52 }
] }"#;

const DEMO_TEAM: &str = "Email,Name,Languages,Areas,Title\n\
agent@demo.roost.test,Sam Agent,\"English, Arabic\",Dubai Marina; Jumeirah Village Circle,Property Consultant\n\
nadia.karim@demo.roost.test,Nadia Karim,\"English, Russian\",Palm Jumeirah; Dubai Marina,Senior Agent\n\
manager@demo.roost.test,Maya Manager,\"English, French, Hindi\",Arabian Ranches; Dubai Hills Estate,Sales Manager\n";

const DEMO_RESOURCES: &str = r#"{ "resources": [
  { "title": "Off-plan commission split", "tags": ["commission", "off-plan"],
    "body": "On off-plan sales the developer commission is split 50/50 between the listing agent and the selling agent, paid after the developer releases it." },
  { "title": "Viewing checklist", "tags": ["viewings"],
    "body": "Confirm the client's budget and financing, share the location pin, carry the title deed copy, and log the viewing in the CRM the same day." },
  { "title": "Quarterly targets", "tags": ["targets"], "audience": ["manager", "admin"],
    "body": "Team targets for Q4: 30 closed deals, 12 exclusive listings, average response to new leads under 15 minutes." }
] }"#;
