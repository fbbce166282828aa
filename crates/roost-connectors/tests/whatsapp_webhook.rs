//! WhatsApp webhooks: the subscription handshake, `X-Hub-Signature-256` on each delivery,
//! the events of the documented payload, and deduplication of redeliveries.

use hmac::Mac;
use roost_connectors::whatsapp::{
    Dedup, DeliveryStatus, SignatureError, WebhookEvent, parse_webhook, verify_handshake,
    verify_signature, window_open,
};
use roost_connectors::{ConnectorError, WhatsAppError};

const SECRET: &[u8] = b"0f3c9b7e2a5d4f6e8a1b3c5d7e9f1a2b";

fn sign(secret: &[u8], body: &[u8]) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// A delivery as Meta documents it: an inbound text, plus statuses of two sent messages,
/// one of which failed outside the window; and a change of another field.
const DELIVERY: &str = r#"{
  "object": "whatsapp_business_account",
  "entry": [{
    "id": "102290129340398",
    "changes": [
      { "field": "messages",
        "value": {
          "messaging_product": "whatsapp",
          "metadata": { "display_phone_number": "15550783881", "phone_number_id": "106540352242922" },
          "contacts": [{ "profile": { "name": "Dana Al Mansouri" }, "wa_id": "971501234567" }],
          "messages": [{
            "from": "971501234567", "id": "wamid.IN001", "timestamp": "1700000000",
            "type": "text", "text": { "body": "Is the villa still available?" }
          }],
          "statuses": [
            { "id": "wamid.OUT001", "status": "delivered", "timestamp": "1700000100",
              "recipient_id": "971501234567",
              "conversation": { "id": "c1", "origin": { "type": "service" } },
              "pricing": { "billable": true, "pricing_model": "CBP", "category": "service" } },
            { "id": "wamid.OUT002", "status": "failed", "timestamp": "1700000200",
              "recipient_id": "971507654321",
              "errors": [{ "code": 131047, "title": "Re-engagement message",
                "message": "Re-engagement message",
                "error_data": { "details": "Message failed to send because more than 24 hours have passed since the customer last replied to this number." } }] }
          ]
        } },
      { "field": "message_template_status_update",
        "value": { "event": "APPROVED", "message_template_id": 1, "message_template_name": "showcase" } }
    ]
  }]
}"#;

#[test]
fn handshake_echoes_the_challenge_only_for_the_right_token() {
    let ok = verify_handshake(
        Some("subscribe"),
        Some("roost-verify"),
        Some("1158201444"),
        "roost-verify",
    );
    assert_eq!(ok.as_deref(), Some("1158201444"));
    let cases = [
        (Some("subscribe"), Some("wrong"), Some("1"), "roost-verify"),
        (
            Some("unsubscribe"),
            Some("roost-verify"),
            Some("1"),
            "roost-verify",
        ),
        (None, Some("roost-verify"), Some("1"), "roost-verify"),
        (Some("subscribe"), None, Some("1"), "roost-verify"),
        (
            Some("subscribe"),
            Some("roost-verify"),
            None,
            "roost-verify",
        ),
        // An unconfigured token never matches, not even an empty one.
        (Some("subscribe"), Some(""), Some("1"), ""),
    ];
    for (mode, token, challenge, expected) in cases {
        assert_eq!(
            verify_handshake(mode, token, challenge, expected),
            None,
            "{mode:?} {token:?} {challenge:?}"
        );
    }
}

#[test]
fn signatures_valid_invalid_missing_and_wrongly_prefixed() {
    let body = DELIVERY.as_bytes();
    let good = sign(SECRET, body);
    assert_eq!(verify_signature(SECRET, body, Some(&good)), Ok(()));
    // Hex case does not matter.
    let upper = format!("sha256={}", good["sha256=".len()..].to_uppercase());
    assert_eq!(verify_signature(SECRET, body, Some(&upper)), Ok(()));

    // One byte of the body changed.
    let mut tampered = body.to_vec();
    tampered[10] ^= 1;
    assert_eq!(
        verify_signature(SECRET, &tampered, Some(&good)),
        Err(SignatureError::Mismatch)
    );
    // Another app's secret.
    assert_eq!(
        verify_signature(b"another-secret", body, Some(&good)),
        Err(SignatureError::Mismatch)
    );
    // Missing or empty header.
    assert_eq!(
        verify_signature(SECRET, body, None),
        Err(SignatureError::Missing)
    );
    assert_eq!(
        verify_signature(SECRET, body, Some("  ")),
        Err(SignatureError::Missing)
    );
    // The SHA-1 header's prefix, or none at all.
    let hex = &good["sha256=".len()..];
    assert_eq!(
        verify_signature(SECRET, body, Some(&format!("sha1={hex}"))),
        Err(SignatureError::Malformed)
    );
    assert_eq!(
        verify_signature(SECRET, body, Some(hex)),
        Err(SignatureError::Malformed)
    );
    assert_eq!(
        verify_signature(SECRET, body, Some("sha256=not-hex")),
        Err(SignatureError::Malformed)
    );
    // A truncated signature.
    assert_eq!(
        verify_signature(SECRET, body, Some(&good[..good.len() - 2])),
        Err(SignatureError::Malformed)
    );
    // No secret configured: nothing verifies.
    assert_eq!(
        verify_signature(b"", body, Some(&sign(b"", body))),
        Err(SignatureError::Mismatch)
    );
}

#[test]
fn the_payload_yields_inbound_messages_and_statuses() {
    let events = parse_webhook(DELIVERY.as_bytes()).unwrap();
    assert_eq!(events.len(), 3, "{events:#?}");
    let statuses: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            WebhookEvent::Status(s) => Some(s),
            WebhookEvent::Inbound(_) => None,
        })
        .collect();
    assert_eq!(statuses[0].wamid, "wamid.OUT001");
    assert_eq!(statuses[0].status, DeliveryStatus::Delivered);
    assert_eq!(statuses[0].recipient, "971501234567");
    assert_eq!(statuses[0].timestamp, 1_700_000_100_000);
    assert_eq!(statuses[0].error(), None);

    assert_eq!(statuses[1].status, DeliveryStatus::Failed);
    assert_eq!(statuses[1].errors[0].code, Some(131047));
    let err = statuses[1].error().unwrap();
    assert!(matches!(err, WhatsAppError::TemplateRequired(_)), "{err:?}");
    assert!(matches!(
        ConnectorError::from(err),
        ConnectorError::Permanent { .. }
    ));

    let WebhookEvent::Inbound(m) = &events[2] else {
        panic!("{:?}", events[2])
    };
    assert_eq!(m.from, "971501234567");
    assert_eq!(m.wamid, "wamid.IN001");
    assert_eq!(m.kind, "text");
    assert_eq!(m.text.as_deref(), Some("Is the villa still available?"));
    assert_eq!(m.profile_name.as_deref(), Some("Dana Al Mansouri"));
    assert_eq!(m.phone_number_id.as_deref(), Some("106540352242922"));
    // The client's message opens the 24-hour window from its own timestamp.
    assert!(window_open(Some(m.timestamp), m.timestamp + 23 * 3_600_000));
    assert!(!window_open(
        Some(m.timestamp),
        m.timestamp + 24 * 3_600_000
    ));
}

#[test]
fn a_replayed_delivery_is_verified_but_dropped_by_the_dedup() {
    let body = DELIVERY.as_bytes();
    let header = sign(SECRET, body);
    let mut dedup = Dedup::default();

    verify_signature(SECRET, body, Some(&header)).unwrap();
    let first = dedup.filter(parse_webhook(body).unwrap());
    assert_eq!(first.len(), 3);

    // The same bytes again (Meta's retry, or a replay): the signature still holds, so only
    // the dedup keeps it from being processed twice.
    verify_signature(SECRET, body, Some(&header)).unwrap();
    let second = dedup.filter(parse_webhook(body).unwrap());
    assert!(second.is_empty(), "{second:#?}");

    // A new status of a known message is new.
    let read = DELIVERY.replacen("\"delivered\"", "\"read\"", 1);
    let third = dedup.filter(parse_webhook(read.as_bytes()).unwrap());
    assert_eq!(third.len(), 1);
    assert!(matches!(&third[0], WebhookEvent::Status(s) if s.status == DeliveryStatus::Read));
}

#[test]
fn the_dedup_forgets_its_oldest_keys_beyond_capacity() {
    let mut dedup = Dedup::new(2);
    let event = |id: &str| {
        parse_webhook(DELIVERY.replace("wamid.OUT001", id).as_bytes())
            .unwrap()
            .remove(0)
    };
    assert!(dedup.admit(&event("a")));
    assert!(dedup.admit(&event("b")));
    assert!(!dedup.admit(&event("b")));
    assert!(dedup.admit(&event("c")));
    // "a" was the oldest and is forgotten; "c" is still remembered.
    assert!(dedup.admit(&event("a")));
    assert!(!dedup.admit(&event("c")));
}

#[test]
fn bodies_that_are_not_payloads_are_errors_and_other_fields_are_skipped() {
    assert!(parse_webhook(b"not json").is_err());
    assert!(
        parse_webhook(br#"{"object":"page","entry":[]}"#)
            .unwrap()
            .is_empty()
    );
    let only_template = r#"{"entry":[{"changes":[{"field":"message_template_status_update","value":{"event":"APPROVED"}}]}]}"#;
    assert!(parse_webhook(only_template.as_bytes()).unwrap().is_empty());
}
