//! Images hosted on Roost (`/api/v1/media`): upload, read back, refusals, tenant isolation,
//! listings that reference them, and the demo company's photos.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use roost_api::media::MAX_MEDIA_BYTES;
use roost_server::demo::photos::{Scene, render};
use roost_tests::{Resp, TestServer, on_both_backends};
use serde_json::Value;

on_both_backends!(
    upload_read_back_and_refusals,
    another_company_cannot_read_an_image,
    listings_reference_roost_media,
    the_demo_listings_have_jpeg_photos,
);

pub async fn upload(s: &TestServer, token: &str, bytes: Vec<u8>) -> Resp {
    Resp::from(
        s.req(Method::POST, "/api/v1/media", Some(token))
            .header("content-type", "application/octet-stream")
            .body(bytes)
            .send()
            .await
            .expect("upload sent"),
    )
    .await
}

/// The status, headers and raw bytes of a GET.
async fn get_bytes(
    s: &TestServer,
    path: &str,
    token: Option<&str>,
    if_none_match: Option<&str>,
) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
    let mut rb = s.req(Method::GET, path, token);
    if let Some(tag) = if_none_match {
        rb = rb.header("if-none-match", tag);
    }
    let r = rb.send().await.expect("sent");
    let (status, headers) = (r.status(), r.headers().clone());
    (status, headers, r.bytes().await.expect("body").to_vec())
}

fn png() -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n".to_vec();
    b.extend_from_slice(b"\0\0\0\rIHDR-not-decoded-by-the-server");
    b
}

fn webp() -> Vec<u8> {
    let mut b = b"RIFF\x24\0\0\0WEBPVP8 ".to_vec();
    b.extend_from_slice(&[7; 32]);
    b
}

async fn upload_read_back_and_refusals(s: TestServer) {
    let t = s.register("Media Homes", "media", "professional").await;
    let (_, manager) = s.add_user(&t, "manager@media.test", &["manager"]).await;
    let (_, agent) = s.add_user(&t, "agent@media.test", &["agent"]).await;
    let jpeg = render(Scene::Villa, 7);

    let r = upload(&s, &t.admin.access, jpeg.clone()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_string();
    let url = format!("/api/v1/media/{id}");
    assert_eq!(r.body["url"], url.as_str());
    assert_eq!(r.header("location"), Some(url.as_str()));
    assert_eq!(r.body["kind"], "jpeg");
    assert_eq!(r.body["content_type"], "image/jpeg");
    assert_eq!(r.body["size_bytes"], jpeg.len() as u64);
    let sha = r.body["sha256"].as_str().unwrap().to_string();
    assert_eq!(sha.len(), 64);

    // The same bytes again (a manager may upload too) are the same image, not a copy.
    let again = upload(&s, &manager.access, jpeg.clone()).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_eq!(again.body["id"], id.as_str());

    // Agents read, never upload.
    let r = upload(&s, &agent.access, jpeg.clone()).await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "forbidden"));

    let (status, headers, body) = get_bytes(&s, &url, Some(&agent.access), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, jpeg, "the bytes come back unchanged");
    assert_eq!(headers["content-type"], "image/jpeg");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    let etag = headers["etag"].to_str().unwrap().to_string();
    assert_eq!(etag, format!("\"{sha}\""));
    let cache = headers["cache-control"].to_str().unwrap();
    assert!(
        cache.contains("max-age=31536000")
            && cache.contains("immutable")
            && cache.contains("private"),
        "{cache}"
    );
    let (status, headers, body) = get_bytes(&s, &url, Some(&agent.access), Some(&etag)).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert!(body.is_empty());
    assert_eq!(headers["etag"], etag.as_str());
    let (status, _, body) = get_bytes(&s, &url, Some(&agent.access), Some("\"other\"")).await;
    assert_eq!((status, body.len()), (StatusCode::OK, jpeg.len()));
    let (status, _, _) = get_bytes(&s, &url, None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "media needs a token");
    let missing = s
        .get(
            &format!("/api/v1/media/{}", uuid::Uuid::new_v4()),
            &agent.access,
        )
        .await;
    assert_eq!(
        (missing.status, missing.code()),
        (StatusCode::NOT_FOUND, "not_found")
    );
    let bad = s.get("/api/v1/media/not-an-id", &agent.access).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);

    // PNG and WebP are taken, told by their bytes whatever the Content-Type said.
    for (bytes, kind, mime) in [(png(), "png", "image/png"), (webp(), "webp", "image/webp")] {
        let r = upload(&s, &t.admin.access, bytes.clone()).await;
        assert_eq!(r.status, StatusCode::CREATED, "{kind}: {}", r.body);
        assert_eq!(r.body["kind"], kind);
        let (status, headers, body) = get_bytes(
            &s,
            r.body["url"].as_str().unwrap(),
            Some(&agent.access),
            None,
        )
        .await;
        assert_eq!((status, body), (StatusCode::OK, bytes));
        assert_eq!(headers["content-type"], mime);
    }

    // Anything else is refused, and so is an image over the limit (announced or streamed).
    for (what, bytes) in [
        ("gif", b"GIF89a\x01\0\x01\0\0\0\0;".to_vec()),
        ("html", b"<!doctype html><title>x</title>".to_vec()),
        ("svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>".to_vec()),
        ("empty", Vec::new()),
        ("truncated jpeg", vec![0xFF, 0xD8]),
    ] {
        let r = upload(&s, &t.admin.access, bytes).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
            "{what}: {}",
            r.body
        );
        assert!(
            r.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("JPEG, PNG or WebP"),
            "{}",
            r.body
        );
    }
    let mut big = render(Scene::Tower, 1);
    big.resize(MAX_MEDIA_BYTES + 1, 0);
    let r = upload(&s, &t.admin.access, big.clone()).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
        "{}",
        r.body
    );
    let streamed = post_chunked(&s, &t.admin.access, &big).await;
    assert!(streamed.starts_with("HTTP/1.1 413"), "{streamed}");
    assert!(streamed.contains("payload_too_large"), "{streamed}");
    big.truncate(MAX_MEDIA_BYTES);
    let r = upload(&s, &t.admin.access, big).await;
    assert_eq!(r.status, StatusCode::CREATED, "the limit itself is allowed");

    // The document describes the binary bodies and the answer.
    let doc = s
        .call(Method::GET, "/api/v1/openapi.json", None, None)
        .await
        .body;
    let upload_types = &doc["paths"]["/api/v1/media"]["post"]["requestBody"]["content"];
    for mime in ["image/jpeg", "image/png", "image/webp"] {
        let schema = &upload_types[mime]["schema"];
        assert_eq!(
            schema["$ref"], "#/components/schemas/ImageBytes",
            "{mime}: {schema}"
        );
        assert!(
            doc["paths"]["/api/v1/media/{id}"]["get"]["responses"]["200"]["content"][mime]
                .is_object()
        );
    }
    assert!(doc["components"]["schemas"]["Media"].is_object());
    assert_eq!(
        doc["components"]["schemas"]["ImageBytes"]["format"],
        "binary"
    );

    // Each stored image is audited once, with its actor; refusals and repeats are not.
    let page = s.get("/api/v1/audit?limit=500", &t.admin.access).await;
    let uploads: Vec<&Value> = page.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "media.upload")
        .collect();
    assert_eq!(uploads.len(), 4, "jpeg, png, webp and the 10 MiB one");
    let first = uploads.last().unwrap();
    assert_eq!(first["target_type"], "media");
    assert_eq!(first["target_id"], id.as_str());
    assert_eq!(first["details"]["content_type"], "image/jpeg");
    assert_eq!(first["details"]["sha256"], sha.as_str());
    assert_eq!(first["actor_device_id"], t.admin.device_id.as_str());
}

/// `POST /api/v1/media` with a chunked body (no Content-Length), over a raw socket; returns
/// the response as text.
async fn post_chunked(s: &TestServer, token: &str, body: &[u8]) -> String {
    use std::io::{Read, Write};
    let addr = s.base.trim_start_matches("http://").to_string();
    let head = format!(
        "POST /api/v1/media HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: image/jpeg\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    let body = body.to_vec();
    tokio::task::spawn_blocking(move || {
        let mut sock = std::net::TcpStream::connect(&addr).unwrap();
        sock.write_all(head.as_bytes()).unwrap();
        for chunk in body.chunks(256 * 1024) {
            // The server may answer and close before the last chunk; that is the point.
            let sent = sock
                .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                .and_then(|()| sock.write_all(chunk))
                .and_then(|()| sock.write_all(b"\r\n"));
            if sent.is_err() {
                break;
            }
        }
        let _ = sock.write_all(b"0\r\n\r\n");
        let mut out = Vec::new();
        let _ = sock.read_to_end(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    })
    .await
    .unwrap()
}

async fn another_company_cannot_read_an_image(s: TestServer) {
    let a = s
        .register("Alpha Media", "alpha-media", "professional")
        .await;
    let b = s.register("Beta Media", "beta-media", "professional").await;
    let jpeg = render(Scene::Interior, 3);
    let r = upload(&s, &a.admin.access, jpeg.clone()).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let a_url = r.body["url"].as_str().unwrap().to_string();

    let r = s.get(&a_url, &b.admin.access).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::NOT_FOUND, "not_found"),
        "{}",
        r.body
    );
    assert!(!r.body.to_string().contains(a.id.as_str()));
    let (status, _, _) = get_bytes(&s, &a_url, Some(&b.admin.access), Some("*")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "revalidation is scoped too");

    // The same bytes in B are B's own image, under another id.
    let r = upload(&s, &b.admin.access, jpeg.clone()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let b_url = r.body["url"].as_str().unwrap().to_string();
    assert_ne!(a_url, b_url);
    let (status, _, body) = get_bytes(&s, &b_url, Some(&b.admin.access), None).await;
    assert_eq!((status, body.len()), (StatusCode::OK, jpeg.len()));
    let r = s.get(&b_url, &a.admin.access).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

async fn listings_reference_roost_media(s: TestServer) {
    let t = s
        .register("Photo Homes", "photo-homes", "professional")
        .await;
    let r = upload(&s, &t.admin.access, render(Scene::Villa, 11)).await;
    let url = r.body["url"].as_str().unwrap().to_string();
    let shouted = url
        .to_uppercase()
        .replace("/API/V1/MEDIA/", "/api/v1/media/");
    let csv = format!(
        "Ref,Title,Price,Photos\n\
         P-1,Villa with photos,AED 4M,{shouted} | https://cdn.example.com/p1/2.jpg\n\
         P-2,Flat with a CDN photo,AED 1M,https://cdn.example.com/p2/1.jpg\n"
    );
    let r = s.import(&t.admin.access, "p.csv", csv.into(), "").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let listings = s.all_listings(&t.admin.access).await;
    let p1 = listings.iter().find(|l| l["external_id"] == "P-1").unwrap();
    assert_eq!(
        p1["photos"],
        serde_json::json!([url, "https://cdn.example.com/p1/2.jpg"]),
        "stored with the id as the server wrote it"
    );

    // Any other relative path is a row problem that says what a photo may be.
    for (bad, says) in [
        ("/photos/p3.jpg", "is a relative path"),
        ("/api/v1/media/p3.jpg", "is not a Roost media path"),
    ] {
        let csv = format!("Ref,Title,Price,Photos\nP-3,Bad photo,AED 1M,{bad}\n");
        let r = s.import(&t.admin.access, "bad.csv", csv.into(), "").await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::UNPROCESSABLE_ENTITY, "import_rejected"),
            "{}",
            r.body
        );
        let report = s.get(r.header("location").unwrap(), &t.admin.access).await;
        let problem = &report.body["problems"][0];
        assert_eq!(problem["column"], "Photos", "{problem}");
        let reason = problem["reason"].as_str().unwrap();
        assert!(
            reason.contains(says) && reason.contains("/api/v1/media/<id>"),
            "{reason}"
        );
    }
    assert_eq!(s.all_listings(&t.admin.access).await.len(), 2);
}

async fn the_demo_listings_have_jpeg_photos(s: TestServer) {
    let started = std::time::Instant::now();
    assert!(roost_server::demo::seed(&s.state).await.unwrap());
    eprintln!("demo seed took {:?}", started.elapsed());
    let agent = s
        .login("demo", "agent@demo.roost.test", "demo-agent-pass")
        .await;
    let listings = s.all_listings(&agent.access).await;
    assert_eq!(listings.len(), 300);
    let mut distinct = BTreeSet::new();
    for l in &listings {
        let photos = l["photos"].as_array().unwrap();
        assert!((2..=4).contains(&photos.len()), "{}", l["external_id"]);
        for p in photos {
            let p = p.as_str().unwrap();
            assert!(p.starts_with("/api/v1/media/"), "{p}");
            distinct.insert(p.to_string());
        }
    }
    assert!(
        (24..=40).contains(&distinct.len()),
        "a reused pool: {}",
        distinct.len()
    );
    let mut sizes = Vec::new();
    for p in &distinct {
        let (status, headers, body) = get_bytes(&s, p, Some(&agent.access), None).await;
        assert_eq!(status, StatusCode::OK, "{p}");
        assert_eq!(headers["content-type"], "image/jpeg");
        assert_eq!(&body[..3], &[0xFF, 0xD8, 0xFF], "{p} is a JPEG");
        assert_eq!(
            &body[body.len() - 2..],
            &[0xFF, 0xD9],
            "{p} ends like a JPEG"
        );
        sizes.push(body.len());
    }
    sizes.sort();
    assert!(
        sizes[0] >= 15_000 && sizes[sizes.len() - 1] <= 90_000,
        "photo-sized JPEGs: {sizes:?}"
    );
    let mut unique = sizes.clone();
    unique.dedup();
    assert!(
        unique.len() > distinct.len() / 2,
        "varied images: {sizes:?}"
    );
}
