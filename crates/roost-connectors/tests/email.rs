//! The SMTP mailer against a real SMTP server on loopback: aiosmtpd, started per test by
//! `smtp_sink.py`, which stores what it accepts and refuses on command.
//!
//! aiosmtpd comes from `ROOST_TEST_AIOSMTPD_PATH` (a `pip install --target` folder; `cargo
//! xtask test` installs it). Without it the tests that need it are skipped, unless
//! `ROOST_TEST_REQUIRE_SMTP=1`, which makes them fail.

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use mailparse::{MailAddr, MailHeaderMap, ParsedMail, addrparse_header};
use roost_connectors::email::{Refusal, SettingsProblem};
use roost_connectors::{
    Branding, ConnectorError, Contact, EmailError, ListingCard, Mailer, Showcase, SmtpSecurity,
    SmtpSettings,
};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/smtp_sink.py");
const PASSWORD: &str = "correct-horse-battery";
const WRONG_PASSWORD: &str = "wrong-horse-battery";

/// aiosmtpd's folder, or `None` (test skipped) unless it is required.
fn aiosmtpd_path() -> Option<String> {
    if let Some(path) = std::env::var("ROOST_TEST_AIOSMTPD_PATH")
        .ok()
        .filter(|p| !p.is_empty())
    {
        return Some(path);
    }
    if std::env::var("ROOST_TEST_REQUIRE_SMTP").as_deref() == Ok("1") {
        panic!(
            "ROOST_TEST_REQUIRE_SMTP=1 but ROOST_TEST_AIOSMTPD_PATH is not set: run `cargo xtask test`, \
             or `python3 -m pip install --target DIR aiosmtpd==1.4.6` and point the variable at DIR"
        );
    }
    eprintln!("skipped: ROOST_TEST_AIOSMTPD_PATH is not set (aiosmtpd for the SMTP tests)");
    None
}

/// The SMTP server of one test; stopped when dropped.
struct Sink {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Sink {
    /// Starts `smtp_sink.py` with `args` on a free port and waits until it accepts.
    fn start(args: &[&str]) -> Option<Sink> {
        let pythonpath = aiosmtpd_path()?;
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new("python3")
            .arg(SCRIPT)
            .args(["--port", "0", "--dir"])
            .arg(dir.path())
            .args(args)
            .env("PYTHONPATH", pythonpath)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 could not be started");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(Duration::from_secs(30)).unwrap_or_default();
        let port = line
            .trim()
            .strip_prefix("listening 127.0.0.1:")
            .and_then(|p| p.parse::<u16>().ok());
        let mut sink = Sink {
            child,
            port: port.unwrap_or(0),
            dir,
        };
        assert!(port.is_some(), "the SMTP sink did not start: {line:?}");
        for _ in 0..200 {
            if TcpStream::connect(("127.0.0.1", sink.port)).is_ok() {
                return Some(sink);
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        let _ = sink.child.kill();
        panic!("the SMTP sink never accepted on port {}", sink.port);
    }

    fn settings(&self) -> SmtpSettings {
        SmtpSettings {
            port: self.port,
            ..settings_for("127.0.0.1")
        }
    }

    /// Every message accepted so far: (envelope JSON, raw message).
    fn received(&self) -> Vec<(serde_json::Value, Vec<u8>)> {
        let mut emls: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        emls.sort();
        emls.into_iter()
            .map(|eml| {
                let meta = std::fs::read(eml.with_extension("json")).unwrap();
                (
                    serde_json::from_slice(&meta).unwrap(),
                    std::fs::read(&eml).unwrap(),
                )
            })
            .collect()
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn settings_for(host: &str) -> SmtpSettings {
    SmtpSettings {
        timeout: Duration::from_secs(10),
        ..SmtpSettings::new(
            host,
            SmtpSecurity::Plain,
            "listings@acme.example",
            "Acme Realty",
        )
    }
}

fn showcase(client_email: &str, message_id: &str) -> Showcase {
    Showcase {
        branding: Branding {
            company: "Acme Realty".into(),
            color: "#0b5cad".into(),
            logo_url: Some("https://cdn.acme.example/logo.png".into()),
        },
        agent: Contact {
            name: "Sara Khan".into(),
            email: "sara@acme.example".into(),
        },
        client: Contact {
            name: "Dana Al Mansouri".into(),
            email: client_email.into(),
        },
        message: "Hi Dana,\n\nThree homes that match <script>alert('x')</script> your brief."
            .into(),
        listings: vec![
            ListingCard {
                title: "Family villa with garden".into(),
                price: "AED 4,250,000".into(),
                facts: "3 bed · 1,850 sqft · Arabian Ranches".into(),
                photo_url: Some("https://cdn.acme.example/l/1.jpg".into()),
                link: Some("https://acme.example/l/1".into()),
            },
            ListingCard {
                title: "Marina apartment".into(),
                price: "AED 1,900,000".into(),
                facts: "1 bed · 820 sqft · Dubai Marina".into(),
                photo_url: None,
                link: None,
            },
            ListingCard {
                title: "Townhouse near the park".into(),
                price: "AED 2,700,000".into(),
                facts: "2 bed · 1,400 sqft · Town Square".into(),
                photo_url: Some("https://cdn.acme.example/l/3.jpg".into()),
                link: Some("https://acme.example/l/3".into()),
            },
        ],
        message_id: Some(message_id.into()),
    }
}

async fn send(settings: SmtpSettings, client_email: &str) -> Result<String, EmailError> {
    let mailer = Mailer::new(settings).unwrap();
    let email = showcase(client_email, "<action-0190-test@roost.local>")
        .email()
        .unwrap();
    mailer.send(&email).await.map(|sent| sent.message_id)
}

fn single(header: &mailparse::MailHeader) -> (Option<String>, String) {
    match &addrparse_header(header).unwrap()[0] {
        MailAddr::Single(s) => (s.display_name.clone(), s.addr.clone()),
        other => panic!("{other:?}"),
    }
}

fn header<'a>(mail: &'a ParsedMail, name: &str) -> &'a mailparse::MailHeader<'a> {
    mail.headers
        .get_first_header(name)
        .unwrap_or_else(|| panic!("no {name} header"))
}

#[tokio::test]
async fn a_showcase_arrives_with_a_text_and_an_html_part() {
    let Some(sink) = Sink::start(&[]) else { return };
    let id = send(sink.settings(), "dana@example.com").await.unwrap();
    assert_eq!(id, "<action-0190-test@roost.local>");

    let received = sink.received();
    assert_eq!(received.len(), 1);
    let (envelope, raw) = &received[0];
    assert_eq!(envelope["mail_from"], "listings@acme.example");
    assert_eq!(
        envelope["rcpt_tos"],
        serde_json::json!(["dana@example.com"])
    );

    let mail = mailparse::parse_mail(raw).unwrap();
    assert_eq!(
        single(header(&mail, "From")),
        (Some("Acme Realty".into()), "listings@acme.example".into())
    );
    assert_eq!(
        single(header(&mail, "To")),
        (Some("Dana Al Mansouri".into()), "dana@example.com".into())
    );
    assert_eq!(
        single(header(&mail, "Reply-To")),
        (Some("Sara Khan".into()), "sara@acme.example".into())
    );
    assert_eq!(
        mail.headers.get_first_value("Subject").as_deref(),
        Some("3 homes for you from Acme Realty")
    );
    assert_eq!(
        mail.headers.get_first_value("Message-ID").as_deref(),
        Some("<action-0190-test@roost.local>")
    );
    assert!(mail.headers.get_first_value("Date").is_some());

    assert_eq!(mail.ctype.mimetype, "multipart/alternative");
    let part = |mime: &str| {
        mail.subparts
            .iter()
            .find(|p| p.ctype.mimetype == mime)
            .unwrap_or_else(|| panic!("no {mime} part"))
            .get_body()
            .unwrap()
    };
    let text = part("text/plain");
    let html = part("text/html");
    for (title, price) in [
        ("Family villa with garden", "AED 4,250,000"),
        ("Marina apartment", "AED 1,900,000"),
        ("Townhouse near the park", "AED 2,700,000"),
    ] {
        assert!(text.contains(title), "{title} missing from the text part");
        assert!(text.contains(price), "{price} missing from the text part");
        assert!(html.contains(title) && html.contains(price));
    }
    assert!(text.contains("3 bed · 1,850 sqft · Arabian Ranches"));
    assert!(text.contains("Details: https://acme.example/l/1"));
    assert!(html.contains("background-color:#0b5cad"));
    assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; your brief."));
    assert!(!html.contains("<script"));
    assert!(html.contains("src=\"https://cdn.acme.example/l/1.jpg\""));
    assert!(html.contains("src=\"https://cdn.acme.example/logo.png\""));
}

#[tokio::test]
async fn signs_in_when_the_server_requires_it() {
    let auth = format!("roost:{PASSWORD}");
    let Some(sink) = Sink::start(&["--auth", &auth]) else {
        return;
    };
    let settings = sink.settings().with_credentials("roost", PASSWORD);
    send(settings, "dana@example.com").await.unwrap();
    let received = sink.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].0["login"], "roost");
}

#[tokio::test]
async fn a_wrong_password_needs_an_admin_and_is_never_shown() {
    let auth = format!("roost:{PASSWORD}");
    let Some(sink) = Sink::start(&["--auth", &auth]) else {
        return;
    };
    let settings = sink.settings().with_credentials("roost", WRONG_PASSWORD);
    let err = send(settings, "dana@example.com").await.unwrap_err();
    assert!(
        matches!(
            &err,
            EmailError::SettingsRefused(Refusal {
                problem: SettingsProblem::SignIn,
                ..
            })
        ),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(text.contains("535"), "{text}");
    assert!(!text.contains(WRONG_PASSWORD) && !format!("{err:?}").contains(WRONG_PASSWORD));
    let class = ConnectorError::from(err);
    assert!(matches!(class, ConnectorError::NeedsAdmin { .. }));
    assert!(
        class
            .to_string()
            .starts_with("The email settings were refused by the mail server"),
        "{class}"
    );
    assert!(class.to_string().ends_with("an admin must check them."));
    assert!(sink.received().is_empty());
}

#[tokio::test]
async fn a_missing_sign_in_needs_an_admin() {
    let auth = format!("roost:{PASSWORD}");
    let Some(sink) = Sink::start(&["--auth", &auth]) else {
        return;
    };
    let err = send(sink.settings(), "dana@example.com").await.unwrap_err();
    assert!(err.to_string().contains("530"), "{err}");
    assert!(matches!(
        ConnectorError::from(err),
        ConnectorError::NeedsAdmin { .. }
    ));
}

#[tokio::test]
async fn a_refused_client_address_is_permanent() {
    let Some(sink) = Sink::start(&["--rcpt", "bounce=550", "--rcpt", "badaddr=553"]) else {
        return;
    };
    for (address, code) in [("bounce@example.com", 550), ("badaddr@example.com", 553)] {
        let err = send(sink.settings(), address).await.unwrap_err();
        match &err {
            EmailError::RecipientRefused(reply) => assert_eq!(reply.code, code),
            other => panic!("{other:?}"),
        }
        let class = ConnectorError::from(err);
        assert!(
            matches!(class, ConnectorError::Permanent { .. }),
            "{class:?}"
        );
        assert!(
            class
                .to_string()
                .starts_with("The mail server refused the client's address"),
            "{class}"
        );
    }
    assert!(sink.received().is_empty());
}

#[tokio::test]
async fn a_busy_server_is_retried_after_a_minute() {
    let Some(sink) = Sink::start(&["--rcpt", "busy=451"]) else {
        return;
    };
    let err = send(sink.settings(), "busy@example.com").await.unwrap_err();
    assert!(
        matches!(&err, EmailError::Busy(r) if r.code == 451),
        "{err:?}"
    );
    let class = ConnectorError::from(err);
    assert!(class.retryable());
    assert_eq!(class.retry_after(), Some(Duration::from_secs(60)));
}

#[tokio::test]
async fn relay_denied_and_a_refused_sender_need_an_admin() {
    let Some(sink) = Sink::start(&["--rcpt", "relay=554", "--mail", "forbidden=553"]) else {
        return;
    };
    let err = send(sink.settings(), "relay@example.com")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, EmailError::SettingsRefused(r) if r.problem == SettingsProblem::Relay),
        "{err:?}"
    );
    assert!(matches!(
        ConnectorError::from(err),
        ConnectorError::NeedsAdmin { .. }
    ));

    let settings = SmtpSettings {
        from_address: "forbidden@acme.example".into(),
        ..sink.settings()
    };
    let err = send(settings, "dana@example.com").await.unwrap_err();
    assert!(
        matches!(&err, EmailError::SettingsRefused(r) if r.problem == SettingsProblem::Sender),
        "{err:?}"
    );
    assert!(matches!(
        ConnectorError::from(err),
        ConnectorError::NeedsAdmin { .. }
    ));
}

#[tokio::test]
async fn a_refused_message_is_permanent() {
    // The sink refuses data holding this Message-ID (headers are not encoded).
    let Some(sink) = Sink::start(&["--data", "refuse-me@roost.local=552"]) else {
        return;
    };
    let mailer = Mailer::new(sink.settings()).unwrap();
    let email = showcase("dana@example.com", "refuse-me@roost.local")
        .email()
        .unwrap();
    let err = mailer.send(&email).await.unwrap_err();
    assert!(
        matches!(&err, EmailError::MessageRefused(r) if r.code == 552),
        "{err:?}"
    );
    assert!(matches!(
        ConnectorError::from(err),
        ConnectorError::Permanent { .. }
    ));
}

#[tokio::test]
async fn tls_settings_a_plain_server_cannot_meet_need_an_admin() {
    let Some(sink) = Sink::start(&[]) else { return };
    for security in [SmtpSecurity::Tls, SmtpSecurity::StartTls] {
        let settings = SmtpSettings {
            security,
            ..sink.settings()
        };
        let err = send(settings, "dana@example.com").await.unwrap_err();
        assert!(
            matches!(&err, EmailError::SettingsRefused(r) if r.problem == SettingsProblem::Tls),
            "{security:?}: {err:?}"
        );
        assert!(matches!(
            ConnectorError::from(err),
            ConnectorError::NeedsAdmin { .. }
        ));
    }
    assert!(sink.received().is_empty());
}

#[tokio::test]
async fn nothing_listening_is_retried() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let settings = SmtpSettings {
        port,
        ..settings_for("127.0.0.1")
    };
    let err = send(settings, "dana@example.com").await.unwrap_err();
    assert!(matches!(err, EmailError::Unreachable(_)), "{err:?}");
    let class = ConnectorError::from(err);
    assert!(class.retryable(), "{class:?}");
    assert!(
        class
            .to_string()
            .starts_with("The mail server could not be reached"),
        "{class}"
    );
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_and_is_retried() {
    // Accepts connections and never greets.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let settings = SmtpSettings {
        port,
        timeout: Duration::from_millis(500),
        ..settings_for("127.0.0.1")
    };
    let started = std::time::Instant::now();
    let err = send(settings, "dana@example.com").await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(
        err,
        EmailError::Unreachable("no answer within 1 s".into()),
        "{err:?}"
    );
    assert!(ConnectorError::from(err).retryable());
}
