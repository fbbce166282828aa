//! Verify before mutate: a pure decision over a fetched page and the local sync state. Nothing
//! here touches the database or the network, so every rule has a table test.

use roost_api::sync::{Change, ChangePage};

/// The one vector encoding the cache stores and the feed may announce.
pub const F32LE: &str = "f32le";

/// The vector space of the local vectors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalModel {
    pub id: String,
    pub dim: u32,
}

/// What the device has applied so far.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SyncState {
    /// The `seq` of the last applied change; 0 before the first sync.
    pub cursor: i64,
    /// The model of the stored vectors; `None` while the cache holds none.
    pub model: Option<LocalModel>,
    /// What the user may see, as the feed named it; `None` before the first page.
    pub scope: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The page is consistent with the local state: apply it and its cursor.
    Apply,
    /// The local copy cannot be continued: empty it and sync again from 0.
    ResyncFromZero(ResyncReason),
    /// The page contradicts the feed's rules; apply nothing.
    Reject(RejectReason),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResyncReason {
    /// Local vectors cannot be mixed with vectors of another model.
    #[error("the feed's embedding model is now {} ({} dims), not {} ({} dims)", new.id, new.dim, old.id, old.dim)]
    ModelChanged { old: LocalModel, new: LocalModel },
    /// The user's roles changed: data the new scope does not allow must leave the device.
    #[error("what this user may see changed from {old:?} to {new:?}")]
    ScopeChanged { old: String, new: String },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RejectReason {
    #[error("change {seq} is not after the cursor {cursor}")]
    NotAfterCursor { seq: i64, cursor: i64 },
    #[error("change {seq} follows change {previous}: sequence numbers must ascend strictly")]
    NotAscending { seq: i64, previous: i64 },
    #[error("next_cursor is {got}, expected {expected} (the last change's seq, or the cursor)")]
    NextCursor { got: i64, expected: i64 },
    #[error("an empty page says more changes follow; that would never end")]
    EmptyPageWithMore,
    #[error("change {seq} carries an embedding but the page announces no embedding model")]
    EmbeddingWithoutModel { seq: i64 },
    #[error("the page's vectors are encoded as {0:?}; this app reads only f32le")]
    UnsupportedEncoding(String),
    #[error("the page announces an embedding dimension of 0")]
    ZeroDimension,
    #[error("the embedding of change {seq} holds {bytes} bytes, expected {expected} ({dim} × f32)")]
    EmbeddingLength {
        seq: i64,
        bytes: usize,
        expected: usize,
        dim: u32,
    },
    #[error("the embedding of change {seq} is not padded base64")]
    EmbeddingNotBase64 { seq: i64 },
}

/// Decides what to do with `page`, fetched with `since = local.cursor`.
pub fn decide(local: &SyncState, page: &ChangePage) -> Decision {
    if let Err(reason) = check_sequence(local.cursor, page) {
        return Decision::Reject(reason);
    }
    if let Some(scope) = &local.scope
        && *scope != page.scope
    {
        return Decision::ResyncFromZero(ResyncReason::ScopeChanged {
            old: scope.clone(),
            new: page.scope.clone(),
        });
    }
    let Some(model) = &page.embedding_model else {
        // A server without a model sends no vectors; listings then arrive bare.
        return match page.changes.iter().find_map(embedding) {
            Some((seq, _)) => Decision::Reject(RejectReason::EmbeddingWithoutModel { seq }),
            None => Decision::Apply,
        };
    };
    if model.encoding != F32LE {
        return Decision::Reject(RejectReason::UnsupportedEncoding(model.encoding.clone()));
    }
    if model.dim == 0 {
        return Decision::Reject(RejectReason::ZeroDimension);
    }
    let announced = LocalModel {
        id: model.id.clone(),
        dim: model.dim,
    };
    if let Some(stored) = &local.model
        && *stored != announced
    {
        return Decision::ResyncFromZero(ResyncReason::ModelChanged {
            old: stored.clone(),
            new: announced,
        });
    }
    match check_vector_lengths(page, model.dim) {
        Ok(()) => Decision::Apply,
        Err(reason) => Decision::Reject(reason),
    }
}

fn check_sequence(cursor: i64, page: &ChangePage) -> Result<(), RejectReason> {
    let mut previous = cursor;
    for change in &page.changes {
        let seq = change.seq();
        if seq <= cursor {
            return Err(RejectReason::NotAfterCursor { seq, cursor });
        }
        if seq <= previous {
            return Err(RejectReason::NotAscending { seq, previous });
        }
        previous = seq;
    }
    // `previous` is now the last seq, or the cursor for an empty page.
    if page.next_cursor != previous {
        return Err(RejectReason::NextCursor {
            got: page.next_cursor,
            expected: previous,
        });
    }
    if page.changes.is_empty() && page.has_more {
        return Err(RejectReason::EmptyPageWithMore);
    }
    Ok(())
}

/// The seq and base64 vector of a change that carries one.
fn embedding(change: &Change) -> Option<(i64, &str)> {
    match change {
        Change::Listing {
            seq,
            embedding: Some(b64),
            ..
        }
        | Change::Knowledge {
            seq,
            embedding: Some(b64),
            ..
        } => Some((*seq, b64)),
        _ => None,
    }
}

fn check_vector_lengths(page: &ChangePage, dim: u32) -> Result<(), RejectReason> {
    let expected = dim as usize * 4;
    for (seq, b64) in page.changes.iter().filter_map(embedding) {
        // Counted from the text alone: decoding happens once, inside the apply transaction.
        let bytes = base64_decoded_len(b64).ok_or(RejectReason::EmbeddingNotBase64 { seq })?;
        if bytes != expected {
            return Err(RejectReason::EmbeddingLength {
                seq,
                bytes,
                expected,
                dim,
            });
        }
    }
    Ok(())
}

/// The byte length padded base64 text decodes to, or `None` when its length cannot be padded
/// base64. Characters are checked when decoding.
fn base64_decoded_len(text: &str) -> Option<usize> {
    let len = text.len();
    if !len.is_multiple_of(4) {
        return None;
    }
    let padding = text.bytes().rev().take(2).filter(|&b| b == b'=').count();
    Some(len / 4 * 3 - padding)
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use roost_api::sync::EmbeddingModel;
    use uuid::Uuid;

    use super::*;

    fn model(id: &str, dim: u32) -> Option<EmbeddingModel> {
        Some(EmbeddingModel {
            id: id.into(),
            dim,
            encoding: F32LE.into(),
        })
    }

    fn local(cursor: i64, m: Option<(&str, u32)>) -> SyncState {
        SyncState {
            cursor,
            model: m.map(|(id, dim)| LocalModel { id: id.into(), dim }),
            scope: None,
        }
    }

    fn deleted(seq: i64) -> Change {
        Change::ListingDeleted {
            seq,
            id: Uuid::nil(),
        }
    }

    fn with_vector(seq: i64, floats: usize) -> Change {
        Change::Listing {
            seq,
            listing: crate::testdata::listing(seq),
            embedding: Some(STANDARD.encode(vec![0u8; floats * 4])),
        }
    }

    fn knowledge(seq: i64, floats: usize) -> Change {
        let item = roost_api::knowledge::KnowledgeItem {
            id: Uuid::nil(),
            kind: roost_api::knowledge::KnowledgeKind::Document,
            title: "Commission policy".into(),
            body: "Off-plan: 2%".into(),
            audience: vec![],
            data: serde_json::Value::Null,
            source: None,
            updated_at: 0,
        };
        Change::Knowledge {
            seq,
            item,
            embedding: Some(STANDARD.encode(vec![0u8; floats * 4])),
        }
    }

    fn page(changes: Vec<Change>, next: i64, more: bool, m: Option<EmbeddingModel>) -> ChangePage {
        ChangePage {
            changes,
            next_cursor: next,
            has_more: more,
            head: 0,
            embedding_model: m,
            scope: "agent".into(),
        }
    }

    fn reject(r: RejectReason) -> Decision {
        Decision::Reject(r)
    }

    #[test]
    fn decisions() {
        use RejectReason::*;
        let lm = |id: &str, dim| LocalModel { id: id.into(), dim };
        #[rustfmt::skip]
        let cases: Vec<(&str, SyncState, ChangePage, Decision)> = vec![
            ("empty page keeps the cursor",
                local(7, None), page(vec![], 7, false, None), Decision::Apply),
            ("ascending after the cursor",
                local(7, None), page(vec![deleted(8), deleted(10)], 10, true, None), Decision::Apply),
            ("a change at the cursor",
                local(7, None), page(vec![deleted(7)], 7, false, None), reject(NotAfterCursor { seq: 7, cursor: 7 })),
            ("a change before the cursor",
                local(7, None), page(vec![deleted(3)], 3, false, None), reject(NotAfterCursor { seq: 3, cursor: 7 })),
            ("descending",
                local(0, None), page(vec![deleted(5), deleted(4)], 4, false, None), reject(NotAscending { seq: 4, previous: 5 })),
            ("a repeated seq",
                local(0, None), page(vec![deleted(5), deleted(5)], 5, false, None), reject(NotAscending { seq: 5, previous: 5 })),
            ("next_cursor short of the last seq",
                local(0, None), page(vec![deleted(1), deleted(2)], 1, false, None), reject(NextCursor { got: 1, expected: 2 })),
            ("next_cursor moves on an empty page",
                local(4, None), page(vec![], 9, false, None), reject(NextCursor { got: 9, expected: 4 })),
            ("empty page promising more",
                local(4, None), page(vec![], 4, true, None), reject(EmptyPageWithMore)),
            ("vector without a model",
                local(0, None), page(vec![with_vector(1, 3)], 1, false, None), reject(EmbeddingWithoutModel { seq: 1 })),
            ("first model is adopted",
                local(0, None), page(vec![with_vector(1, 3)], 1, false, model("m", 3)), Decision::Apply),
            ("same model",
                local(0, Some(("m", 3))), page(vec![with_vector(1, 3)], 1, false, model("m", 3)), Decision::Apply),
            ("another model id",
                local(9, Some(("m", 3))), page(vec![with_vector(10, 3)], 10, false, model("n", 3)),
                Decision::ResyncFromZero(ResyncReason::ModelChanged { old: lm("m", 3), new: lm("n", 3) })),
            ("same id, another dimension",
                local(9, Some(("m", 3))), page(vec![], 9, false, model("m", 4)),
                Decision::ResyncFromZero(ResyncReason::ModelChanged { old: lm("m", 3), new: lm("m", 4) })),
            ("a model-less page keeps the stored model",
                local(9, Some(("m", 3))), page(vec![deleted(10)], 10, false, None), Decision::Apply),
            ("a short vector",
                local(0, None), page(vec![with_vector(1, 3), with_vector(2, 2)], 2, false, model("m", 3)),
                reject(EmbeddingLength { seq: 2, bytes: 8, expected: 12, dim: 3 })),
            ("a long vector",
                local(0, None), page(vec![with_vector(1, 4)], 1, false, model("m", 3)),
                reject(EmbeddingLength { seq: 1, bytes: 16, expected: 12, dim: 3 })),
            ("another encoding",
                local(0, None), page(vec![], 0, false, Some(EmbeddingModel { id: "m".into(), dim: 3, encoding: "i8".into() })),
                reject(UnsupportedEncoding("i8".into()))),
            ("zero dimension",
                local(0, None), page(vec![], 0, false, model("m", 0)), reject(ZeroDimension)),
            ("sequence errors come before model changes",
                local(9, Some(("m", 3))), page(vec![deleted(2)], 2, false, model("n", 3)), reject(NotAfterCursor { seq: 2, cursor: 9 })),
        ];
        let scoped = |scope: &str| SyncState {
            scope: Some(scope.into()),
            ..local(9, None)
        };
        let more: Vec<(&str, SyncState, ChangePage, Decision)> = vec![
            (
                "same scope",
                scoped("agent"),
                page(vec![], 9, false, None),
                Decision::Apply,
            ),
            (
                "another scope",
                scoped("admin"),
                page(vec![], 9, false, None),
                Decision::ResyncFromZero(ResyncReason::ScopeChanged {
                    old: "admin".into(),
                    new: "agent".into(),
                }),
            ),
            (
                "a knowledge vector is checked too",
                local(0, None),
                page(vec![knowledge(1, 2)], 1, false, model("m", 3)),
                reject(EmbeddingLength {
                    seq: 1,
                    bytes: 8,
                    expected: 12,
                    dim: 3,
                }),
            ),
        ];
        for (name, state, page, expected) in cases.into_iter().chain(more) {
            assert_eq!(decide(&state, &page), expected, "{name}");
        }
    }

    #[test]
    fn unpadded_base64_is_rejected() {
        let mut change = with_vector(1, 3);
        if let Change::Listing { embedding, .. } = &mut change {
            *embedding = Some("AAAAAAAAAAAAAAA".into());
        }
        assert_eq!(
            decide(
                &local(0, None),
                &page(vec![change], 1, false, model("m", 3))
            ),
            reject(RejectReason::EmbeddingNotBase64 { seq: 1 })
        );
    }

    #[test]
    fn decoded_length_matches_the_decoder() {
        for n in 0..20 {
            let text = STANDARD.encode(vec![1u8; n]);
            assert_eq!(base64_decoded_len(&text), Some(n), "{text}");
        }
    }
}
