//! `roost-photo://localhost/<listing-id>/<n>` and `roost-photo://localhost/logo`: photos and
//! the tenant logo from the device's cache (fetched once when online), streamed to the webview
//! as files rather than JSON.

use tauri::http::{Request, Response, StatusCode, header};
use tauri::{Manager, Runtime, UriSchemeContext, UriSchemeResponder};
use uuid::Uuid;

use crate::Shell;

pub fn handle<R: Runtime>(
    ctx: UriSchemeContext<'_, R>,
    request: Request<Vec<u8>>,
    responder: UriSchemeResponder,
) {
    let device = ctx.app_handle().state::<Shell>().device();
    let path = request.uri().path().to_string();
    tauri::async_runtime::spawn(async move {
        let response = match device {
            Ok(device) => match parse(&path) {
                Some(Target::Photo(id, n)) => device.photo(id, n).await,
                Some(Target::Logo) => device.logo().await,
                None => Err(crate::error::AppError::NotFound(format!(
                    "no photo at {path}"
                ))),
            },
            Err(e) => Err(e),
        };
        responder.respond(
            match response {
                Ok((bytes, content_type)) => Response::builder()
                    .status(StatusCode::OK)
                    .header(header::CONTENT_TYPE, content_type)
                    .header(header::CACHE_CONTROL, "max-age=86400")
                    .body(bytes),
                Err(e) => Response::builder()
                    .status(if matches!(e, crate::error::AppError::NotFound(_)) {
                        StatusCode::NOT_FOUND
                    } else {
                        StatusCode::SERVICE_UNAVAILABLE
                    })
                    .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
                    .body(e.to_string().into_bytes()),
            }
            .expect("static response parts"),
        );
    });
}

#[derive(Debug, PartialEq)]
enum Target {
    Photo(Uuid, usize),
    Logo,
}

fn parse(path: &str) -> Option<Target> {
    let mut parts = path.trim_matches('/').split('/');
    match (parts.next()?, parts.next(), parts.next()) {
        ("logo", None, None) => Some(Target::Logo),
        (id, Some(n), None) => Some(Target::Photo(id.parse().ok()?, n.parse().ok()?)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        let id = Uuid::nil();
        assert_eq!(parse(&format!("/{id}/2")), Some(Target::Photo(id, 2)));
        assert_eq!(parse("/logo"), Some(Target::Logo));
        assert_eq!(parse("/x/2"), None);
        assert_eq!(parse(&format!("/{id}/-1")), None);
        assert_eq!(parse(&format!("/{id}/1/extra")), None);
        assert_eq!(parse("/"), None);
    }
}
