//! Server-hosted images ("media"), e.g. listing photos a company uploads to Roost instead of
//! linking its own CDN. A listing's `photos` hold either absolute `http(s)` URLs or Roost
//! media paths `/api/v1/media/<id>`; the path form is resolved against the server the app
//! signed in to and fetched with its access token.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The prefix of a Roost media path; the media id follows it.
pub const MEDIA_PATH_PREFIX: &str = "/api/v1/media/";

/// Largest image `POST /api/v1/media` accepts, in bytes.
pub const MAX_MEDIA_BYTES: usize = 10 * 1024 * 1024;

/// The path of a stored image, as listings reference it.
pub fn media_path(id: Uuid) -> String {
    format!("{MEDIA_PATH_PREFIX}{}", id.hyphenated())
}

/// The media id of a Roost media path (`/api/v1/media/<uuid>`, nothing before or after it).
pub fn parse_media_path(reference: &str) -> Option<Uuid> {
    let id = reference.strip_prefix(MEDIA_PATH_PREFIX)?;
    // Only the hyphenated form, so one image has one path (and one cached file on a device).
    if id.len() != 36 {
        return None;
    }
    Uuid::parse_str(id).ok()
}

/// The image formats Roost stores and devices cache, told apart by their first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ImageKind {
    Jpeg,
    Png,
    Webp,
}

impl ImageKind {
    pub const ALL: [ImageKind; 3] = [ImageKind::Jpeg, ImageKind::Png, ImageKind::Webp];

    /// The format whose signature `bytes` start with; `None` for anything else (HTML error
    /// pages, GIF, SVG, truncated files).
    pub fn sniff(bytes: &[u8]) -> Option<ImageKind> {
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(ImageKind::Jpeg)
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(ImageKind::Png)
        } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            Some(ImageKind::Webp)
        } else {
            None
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            ImageKind::Jpeg => "image/jpeg",
            ImageKind::Png => "image/png",
            ImageKind::Webp => "image/webp",
        }
    }

    /// The file extension devices store it under (without the dot).
    pub fn extension(self) -> &'static str {
        match self {
            ImageKind::Jpeg => "jpg",
            ImageKind::Png => "png",
            ImageKind::Webp => "webp",
        }
    }

    pub fn from_extension(ext: &str) -> Option<ImageKind> {
        ImageKind::ALL.into_iter().find(|k| k.extension() == ext)
    }
}

/// A stored image, as `POST /api/v1/media` answers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Media {
    pub id: Uuid,
    /// The path to put in a listing's photos (`/api/v1/media/<id>`).
    pub url: String,
    pub kind: ImageKind,
    /// `image/jpeg`, `image/png` or `image/webp`.
    pub content_type: String,
    pub size_bytes: u64,
    /// SHA-256 of the bytes, hex; also the ETag of `GET /api/v1/media/{id}`.
    pub sha256: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_paths_round_trip_and_nothing_else_parses() {
        let id = Uuid::parse_str("0190c2a4-1f0e-7c3a-9d2b-5e6f7a8b9c0d").unwrap();
        assert_eq!(
            media_path(id),
            "/api/v1/media/0190c2a4-1f0e-7c3a-9d2b-5e6f7a8b9c0d"
        );
        assert_eq!(parse_media_path(&media_path(id)), Some(id));
        for bad in [
            "/api/v1/media/",
            "/api/v1/media/not-a-uuid",
            "/api/v1/media/0190c2a41f0e7c3a9d2b5e6f7a8b9c0d",
            "/api/v1/media/0190c2a4-1f0e-7c3a-9d2b-5e6f7a8b9c0d/x",
            "/api/v1/media/0190c2a4-1f0e-7c3a-9d2b-5e6f7a8b9c0d?x=1",
            "api/v1/media/0190c2a4-1f0e-7c3a-9d2b-5e6f7a8b9c0d",
            "https://x.example/api/v1/media/0190c2a4-1f0e-7c3a-9d2b-5e6f7a8b9c0d",
        ] {
            assert_eq!(parse_media_path(bad), None, "{bad}");
        }
    }

    #[test]
    fn images_are_told_by_their_first_bytes() {
        assert_eq!(
            ImageKind::sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0]),
            Some(ImageKind::Jpeg)
        );
        assert_eq!(
            ImageKind::sniff(b"\x89PNG\r\n\x1a\n\0\0"),
            Some(ImageKind::Png)
        );
        assert_eq!(
            ImageKind::sniff(b"RIFF\x10\0\0\0WEBPVP8 "),
            Some(ImageKind::Webp)
        );
        for not in [
            &b""[..],
            b"\xFF\xD8",
            b"GIF89a......",
            b"<!doctype html>",
            b"RIFF\x10\0\0\0WAVEfmt ",
            b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
        ] {
            assert_eq!(ImageKind::sniff(not), None, "{not:?}");
        }
        for k in ImageKind::ALL {
            assert_eq!(ImageKind::from_extension(k.extension()), Some(k));
        }
    }
}
