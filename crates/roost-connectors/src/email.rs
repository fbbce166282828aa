//! Showcase emails over SMTP: a [`Showcase`] (the company's branding, the agent, the client,
//! the agent's message and listing cards) becomes an [`Email`] with a plain-text and an HTML
//! part, and a [`Mailer`] hands it to the company's mail server.
//!
//! The mailer speaks SMTP step by step over lettre's connection (connect, STARTTLS, AUTH,
//! MAIL, RCPT, DATA) rather than through `AsyncSmtpTransport`, for two reasons:
//! - the same reply code means different things at different steps: a 550 to `RCPT` is the
//!   client's address (the agent corrects it), a 550 to `MAIL FROM` is the company's sender
//!   address (an admin fixes the settings), and only the step tells them apart;
//! - lettre's async transport bounds only the TCP connect, so a server that stops answering
//!   would hold a send forever; here every step has the settings' timeout.
//!
//! There is no idempotency key in SMTP. Every email carries a Message-ID the caller chooses
//! (the server derives it from the action's idempotency key), and a retry sends the same one,
//! which mail stores and clients such as Gmail use to collapse duplicates. The one ambiguous
//! moment, when the connection fails after the message was sent and before the server
//! confirmed it, is reported as [`EmailError::Unconfirmed`] and retried for that reason.
//!
//! Every user-supplied text is HTML-escaped; URLs are kept only when they are absolute
//! http(s) URLs (a `javascript:` link stays out), and the brand colour only when it is a hex
//! colour, so nothing an import or a profile holds can add markup or script to the email.

use std::fmt;
use std::future::Future;
use std::net::IpAddr;
use std::time::Duration;

use lettre::address::Envelope;
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::Error as SmtpError;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};
use lettre::{Address, Message};

use crate::ConfigError;
use crate::error::{ConnectorError, seconds, tidy};

/// How long each step (connect, each command, the message) may take.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);
/// The wait after a temporary refusal (4xx): greylisting and busy servers want minutes, not
/// seconds.
pub const BUSY_WAIT: Duration = Duration::from_secs(60);
/// Listings one showcase email holds at most.
pub const MAX_LISTINGS: usize = 20;
/// The header colour when the company's is missing or not a hex colour.
pub const DEFAULT_BRAND_COLOR: &str = "#1f2937";
/// The domain of Message-IDs made here when the caller names none.
pub const MESSAGE_ID_DOMAIN: &str = "roost.local";

/// How the connection to the mail server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// TLS from the first byte ("SMTPS", port 465).
    Tls,
    /// Plain connection upgraded with STARTTLS before anything else (port 587); a server
    /// that does not offer it is refused rather than spoken to in clear.
    StartTls,
    /// No TLS at all: only for a relay on this machine (`localhost`, `127.0.0.1`, `::1`).
    Plain,
}

impl SmtpSecurity {
    pub fn default_port(self) -> u16 {
        match self {
            SmtpSecurity::Tls => 465,
            SmtpSecurity::StartTls => 587,
            SmtpSecurity::Plain => 25,
        }
    }
}

/// The sign-in to the mail server.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpCredentials {
    pub username: String,
    pub password: String,
}

impl fmt::Debug for SmtpCredentials {
    // The password stays out of logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpCredentials")
            .field("username", &self.username)
            .field("password", &"[redacted]")
            .finish()
    }
}

/// A company's outgoing mail settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub credentials: Option<SmtpCredentials>,
    /// The address emails come from, such as `listings@acme.example`.
    pub from_address: String,
    /// The name shown with it, such as `Acme Realty`.
    pub from_name: String,
    /// Where replies go when the email names no one (a showcase names its agent).
    pub reply_to: Option<String>,
    /// The bound on each step of a send.
    pub timeout: Duration,
}

impl SmtpSettings {
    /// Settings on the security's usual port, without sign-in or reply-to, with
    /// [`DEFAULT_TIMEOUT`].
    pub fn new(
        host: impl Into<String>,
        security: SmtpSecurity,
        from_address: impl Into<String>,
        from_name: impl Into<String>,
    ) -> Self {
        SmtpSettings {
            host: host.into(),
            port: security.default_port(),
            security,
            credentials: None,
            from_address: from_address.into(),
            from_name: from_name.into(),
            reply_to: None,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    pub fn with_credentials(
        mut self,
        username: impl Into<String>,
        password: impl Into<String>,
    ) -> Self {
        self.credentials = Some(SmtpCredentials {
            username: username.into(),
            password: password.into(),
        });
        self
    }
}

/// A person with an email address: the agent or the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub name: String,
    pub email: String,
}

/// The company's look in the email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Branding {
    pub company: String,
    /// `#rrggbb` or `#rgb`; anything else falls back to [`DEFAULT_BRAND_COLOR`].
    pub color: String,
    /// An absolute http(s) URL of the logo, shown in the header bar instead of the name.
    pub logo_url: Option<String>,
}

/// One listing in a showcase, as the agent sees it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ListingCard {
    pub title: String,
    /// The price as displayed, such as `AED 4,250,000`.
    pub price: String,
    /// Key facts on one line, such as `3 bed · 1,850 sqft · Arabian Ranches`.
    pub facts: String,
    /// An absolute http(s) URL; other values are left out.
    pub photo_url: Option<String>,
    /// Where "View details" leads; an absolute http(s) URL, other values are left out.
    pub link: Option<String>,
}

/// Listings an agent sends a client, with a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Showcase {
    pub branding: Branding,
    /// Replies go to the agent.
    pub agent: Contact,
    pub client: Contact,
    pub message: String,
    pub listings: Vec<ListingCard>,
    /// `<id@domain>` (brackets optional); one is made when `None`. Give the same one to a
    /// retry so receivers can tell it is the same email.
    pub message_id: Option<String>,
}

impl Showcase {
    /// `A home for you from Acme Realty`, `3 homes for you from Acme Realty`.
    pub fn subject(&self) -> String {
        let company = one_line(&self.branding.company);
        match self.listings.len() {
            1 => format!("A home for you from {company}"),
            n => format!("{n} homes for you from {company}"),
        }
    }

    /// The plain-text part: the message, a paragraph per listing, the agent's signature.
    pub fn text(&self) -> String {
        let mut out = String::new();
        let message = paragraphs(&self.message);
        if !message.is_empty() {
            out.push_str(&message.join("\n\n"));
            out.push_str("\n\n");
        }
        for card in &self.listings {
            for line in [&card.title, &card.price, &card.facts] {
                let line = one_line(line);
                if !line.is_empty() {
                    out.push_str(&line);
                    out.push('\n');
                }
            }
            if let Some(link) = card.link.as_deref().and_then(web_url) {
                out.push_str(&format!("Details: {link}\n"));
            }
            if let Some(photo) = card.photo_url.as_deref().and_then(web_url) {
                out.push_str(&format!("Photo: {photo}\n"));
            }
            out.push('\n');
        }
        out.push_str("-- \n");
        for line in [&self.agent.name, &self.branding.company, &self.agent.email] {
            let line = one_line(line);
            if !line.is_empty() {
                out.push_str(&line);
                out.push('\n');
            }
        }
        out
    }

    /// The HTML part: tables and inline styles only, which is what survives email clients;
    /// the brand colour fills the header bar and the buttons.
    pub fn html(&self) -> String {
        let brand = brand_color(&self.branding.color);
        let on_brand = text_color_on(&brand);
        let company = escape_html(&one_line(&self.branding.company));
        let font = "font-family:Arial,Helvetica,sans-serif;";
        let mut h = String::with_capacity(4096);
        h.push_str(concat!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n",
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
        ));
        h.push_str(&format!(
            "<title>{}</title>\n</head>\n",
            escape_html(&self.subject())
        ));
        h.push_str("<body style=\"margin:0;padding:0;background-color:#f3f4f6;\">\n");
        // The preview line inbox lists show next to the subject.
        let preview: String = one_line(&self.message).chars().take(140).collect();
        h.push_str(&format!(
            "<div style=\"display:none;max-height:0;overflow:hidden;\">{}</div>\n",
            escape_html(&preview)
        ));
        h.push_str(concat!(
            "<table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" ",
            "style=\"background-color:#f3f4f6;\">\n<tr><td align=\"center\" style=\"padding:24px 12px;\">\n",
            "<table role=\"presentation\" width=\"600\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" ",
            "style=\"width:100%;max-width:600px;background-color:#ffffff;\">\n",
        ));
        // Header bar.
        let header = match self.branding.logo_url.as_deref().and_then(web_url) {
            Some(logo) => format!(
                "<img src=\"{}\" alt=\"{company}\" height=\"40\" style=\"display:block;height:40px;width:auto;border:0;\">",
                escape_html(&logo)
            ),
            None => company.clone(),
        };
        h.push_str(&format!(
            "<tr><td bgcolor=\"{brand}\" style=\"background-color:{brand};padding:20px 24px;color:{on_brand};{font}font-size:20px;font-weight:bold;\">{header}</td></tr>\n"
        ));
        // The agent's message.
        let message = paragraphs(&self.message);
        if !message.is_empty() {
            h.push_str(&format!(
                "<tr><td style=\"padding:24px 24px 8px;color:#111827;{font}font-size:15px;line-height:1.5;\">\n"
            ));
            for p in message {
                let lines: Vec<String> = p.lines().map(escape_html).collect();
                h.push_str(&format!(
                    "<p style=\"margin:0 0 12px;\">{}</p>\n",
                    lines.join("<br>")
                ));
            }
            h.push_str("</td></tr>\n");
        }
        // One card per listing.
        for card in &self.listings {
            let title = escape_html(&one_line(&card.title));
            let link = card
                .link
                .as_deref()
                .and_then(web_url)
                .map(|l| escape_html(&l));
            h.push_str(concat!(
                "<tr><td style=\"padding:16px 24px 0;\">\n",
                "<table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" ",
                "style=\"border:1px solid #e5e7eb;\">\n",
            ));
            if let Some(photo) = card.photo_url.as_deref().and_then(web_url) {
                let img = format!(
                    "<img src=\"{}\" alt=\"{title}\" width=\"550\" style=\"display:block;width:100%;max-width:550px;height:auto;border:0;\">",
                    escape_html(&photo)
                );
                let img = match &link {
                    Some(l) => format!("<a href=\"{l}\">{img}</a>"),
                    None => img,
                };
                h.push_str(&format!("<tr><td>{img}</td></tr>\n"));
            }
            h.push_str(&format!(
                "<tr><td style=\"padding:16px;{font}color:#111827;\">\n"
            ));
            h.push_str(&format!(
                "<div style=\"font-size:17px;font-weight:bold;margin:0 0 4px;\">{title}</div>\n"
            ));
            let price = escape_html(&one_line(&card.price));
            if !price.is_empty() {
                h.push_str(&format!(
                    "<div style=\"font-size:16px;margin:0 0 4px;\">{price}</div>\n"
                ));
            }
            let facts = escape_html(&one_line(&card.facts));
            if !facts.is_empty() {
                h.push_str(&format!(
                    "<div style=\"font-size:14px;color:#4b5563;margin:0 0 4px;\">{facts}</div>\n"
                ));
            }
            if let Some(l) = &link {
                h.push_str(&format!(
                    "<table role=\"presentation\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" style=\"margin-top:12px;\"><tr>\
                     <td bgcolor=\"{brand}\" style=\"background-color:{brand};padding:10px 16px;\">\
                     <a href=\"{l}\" style=\"color:{on_brand};{font}font-size:14px;font-weight:bold;text-decoration:none;\">View details</a>\
                     </td></tr></table>\n"
                ));
            }
            h.push_str("</td></tr>\n</table>\n</td></tr>\n");
        }
        // Signature.
        let agent = escape_html(&one_line(&self.agent.name));
        let agent_email = escape_html(self.agent.email.trim());
        h.push_str(&format!(
            "<tr><td style=\"padding:24px;{font}font-size:14px;line-height:1.5;color:#374151;\">\n\
             <div style=\"font-weight:bold;\">{agent}</div>\n<div>{company}</div>\n\
             <div><a href=\"mailto:{agent_email}\" style=\"color:#374151;\">{agent_email}</a></div>\n\
             <div style=\"margin-top:12px;color:#6b7280;font-size:13px;\">Reply to this email to reach {agent}.</div>\n\
             </td></tr>\n"
        ));
        h.push_str("</table>\n</td></tr>\n</table>\n</body>\n</html>\n");
        h
    }

    /// The email to the client, replies to the agent. Fails on an address that cannot be
    /// one, no listings, too many listings, or a malformed Message-ID.
    pub fn email(&self) -> Result<Email, EmailError> {
        if self.listings.is_empty() {
            return Err(EmailError::Invalid(
                "a showcase needs at least one listing".to_owned(),
            ));
        }
        if self.listings.len() > MAX_LISTINGS {
            return Err(EmailError::Invalid(format!(
                "a showcase email holds at most {MAX_LISTINGS} listings"
            )));
        }
        Ok(Email {
            to: mailbox(&self.client, "client's")?,
            reply_to: Some(mailbox(&self.agent, "agent's")?),
            subject: self.subject(),
            text: self.text(),
            html: Some(self.html()),
            message_id: checked_message_id(self.message_id.as_deref())?,
        })
    }
}

/// An email to one recipient, ready for a [`Mailer`] (which adds From and Date).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    to: Mailbox,
    reply_to: Option<Mailbox>,
    subject: String,
    text: String,
    html: Option<String>,
    message_id: String,
}

impl Email {
    /// An email with a text part and optionally an HTML alternative.
    pub fn new(
        to: &Contact,
        subject: &str,
        text: impl Into<String>,
        html: Option<String>,
        message_id: Option<&str>,
    ) -> Result<Email, EmailError> {
        Ok(Email {
            to: mailbox(to, "recipient's")?,
            reply_to: None,
            subject: one_line(subject),
            text: text.into(),
            html,
            message_id: checked_message_id(message_id)?,
        })
    }

    /// Replies go to `contact` instead of the settings' reply-to.
    pub fn with_reply_to(mut self, contact: &Contact) -> Result<Email, EmailError> {
        self.reply_to = Some(mailbox(contact, "reply-to")?);
        Ok(self)
    }

    /// `<id@domain>`, with the brackets.
    pub fn message_id(&self) -> &str {
        &self.message_id
    }

    pub fn to_address(&self) -> &str {
        self.to.email.as_ref()
    }

    pub fn subject(&self) -> &str {
        &self.subject
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn html(&self) -> Option<&str> {
        self.html.as_deref()
    }
}

/// What the mail server accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentEmail {
    /// The Message-ID the email carried, `<id@domain>`.
    pub message_id: String,
    /// The server's reply to the message, such as `250 2.0.0 Ok: queued as 4C1F2`.
    pub reply: String,
}

/// A client of one company's mail server. Each send opens its own connection.
#[derive(Clone)]
pub struct Mailer {
    host: String,
    port: u16,
    security: SmtpSecurity,
    /// Present unless the security is [`SmtpSecurity::Plain`].
    tls: Option<TlsParameters>,
    credentials: Option<SmtpCredentials>,
    from: Mailbox,
    reply_to: Option<Mailbox>,
    timeout: Duration,
    hello: ClientId,
}

impl fmt::Debug for Mailer {
    // The password stays out of logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mailer")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl Mailer {
    /// Checks the settings; nothing is sent or connected yet.
    pub fn new(settings: SmtpSettings) -> Result<Mailer, ConfigError> {
        let invalid = |what, why| ConfigError::Invalid {
            service: "email",
            what,
            why,
        };
        let missing = |what| ConfigError::Missing {
            service: "email",
            what,
        };
        let host = settings.host.trim();
        if host.is_empty() {
            return Err(missing("server host"));
        }
        if host.contains("://") || host.contains(char::is_whitespace) || host.contains('/') {
            return Err(invalid(
                "server host",
                "is not a host name such as smtp.example.com",
            ));
        }
        let bare = host.trim_matches(['[', ']']);
        if bare.contains(':') && bare.parse::<IpAddr>().is_err() {
            return Err(invalid(
                "server host",
                "holds a port: the port has its own setting",
            ));
        }
        if settings.port == 0 {
            return Err(invalid("server port", "is not a port number"));
        }
        if settings.security == SmtpSecurity::Plain && !is_loopback(host) {
            return Err(invalid(
                "security",
                "must be TLS or STARTTLS: email without TLS is only sent to a relay on this machine",
            ));
        }
        if settings.timeout.is_zero() {
            return Err(invalid("timeout", "must be longer than zero"));
        }
        if let Some(c) = &settings.credentials {
            if c.username.trim().is_empty() {
                return Err(missing("username"));
            }
            if c.password.is_empty() {
                return Err(missing("password"));
            }
        }
        let from_address: Address = settings
            .from_address
            .trim()
            .parse()
            .map_err(|_| invalid("from address", "is not an email address"))?;
        let from_name = one_line(&settings.from_name);
        let reply_to = match settings.reply_to.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(r) => Some(Mailbox::new(
                None,
                r.parse()
                    .map_err(|_| invalid("reply-to address", "is not an email address"))?,
            )),
        };
        let tls = match settings.security {
            SmtpSecurity::Plain => None,
            SmtpSecurity::Tls | SmtpSecurity::StartTls => Some(
                // The host's name is what the certificate must match.
                TlsParameters::new(bare.to_owned()).map_err(|_| {
                    invalid("server host", "cannot be checked against a certificate")
                })?,
            ),
        };
        Ok(Mailer {
            host: bare.to_owned(),
            port: settings.port,
            security: settings.security,
            tls,
            credentials: settings.credentials,
            from: Mailbox::new((!from_name.is_empty()).then_some(from_name), from_address),
            reply_to,
            timeout: settings.timeout,
            hello: ClientId::default(),
        })
    }

    /// The message as it goes over the wire (From, To, Reply-To, Subject, Message-ID, Date,
    /// MIME parts), for previews and tests.
    pub fn message_bytes(&self, email: &Email) -> Result<Vec<u8>, EmailError> {
        Ok(self.message(email)?.formatted())
    }

    /// Sends one email. See the module doc for what a failure means and when a retry could
    /// deliver it twice.
    pub async fn send(&self, email: &Email) -> Result<SentEmail, EmailError> {
        let message = self.message(email)?;
        let bytes = message.formatted();
        let envelope = message.envelope();
        let mut conn = self.connect().await?;
        let result = self.transfer(&mut conn, envelope, &bytes).await;
        // Closing politely is best effort and bounded: the outcome is already known.
        match &result {
            Ok(_) => {
                let _ = tokio::time::timeout(self.close_wait(), conn.quit()).await;
            }
            Err(_) => {
                let _ = tokio::time::timeout(self.close_wait(), conn.abort()).await;
            }
        }
        result.map(|reply| SentEmail {
            message_id: email.message_id.clone(),
            reply,
        })
    }

    fn message(&self, email: &Email) -> Result<Message, EmailError> {
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(email.to.clone())
            .subject(email.subject.clone())
            .message_id(Some(email.message_id.clone()));
        if let Some(r) = email.reply_to.as_ref().or(self.reply_to.as_ref()) {
            builder = builder.reply_to(r.clone());
        }
        let built = match &email.html {
            Some(html) => builder.multipart(MultiPart::alternative_plain_html(
                email.text.clone(),
                html.clone(),
            )),
            None => builder.singlepart(SinglePart::plain(email.text.clone())),
        };
        built.map_err(|e| EmailError::Invalid(format!("the email could not be put together: {e}")))
    }

    /// TCP (and TLS), the greeting, EHLO, then STARTTLS when asked for.
    async fn connect(&self) -> Result<AsyncSmtpConnection, EmailError> {
        let wrapper = match self.security {
            SmtpSecurity::Tls => self.tls.clone(),
            SmtpSecurity::StartTls | SmtpSecurity::Plain => None,
        };
        let mut conn = self
            .step(
                Step::Connect,
                AsyncSmtpConnection::connect_tokio1(
                    (self.host.as_str(), self.port),
                    Some(self.timeout),
                    &self.hello,
                    wrapper,
                    None,
                ),
            )
            .await?;
        if let (SmtpSecurity::StartTls, Some(tls)) = (self.security, &self.tls) {
            let upgraded = self
                .step(Step::StartTls, conn.starttls(tls.clone(), &self.hello))
                .await;
            if let Err(e) = upgraded {
                let _ = tokio::time::timeout(self.close_wait(), conn.abort()).await;
                return Err(e);
            }
        }
        Ok(conn)
    }

    /// AUTH, MAIL, RCPT, DATA and the message; the server's final reply.
    async fn transfer(
        &self,
        conn: &mut AsyncSmtpConnection,
        envelope: &Envelope,
        bytes: &[u8],
    ) -> Result<String, EmailError> {
        if let Some(c) = &self.credentials {
            let credentials = Credentials::new(c.username.clone(), c.password.clone());
            self.step(
                Step::Auth,
                conn.auth(&[Mechanism::Plain, Mechanism::Login], &credentials),
            )
            .await?;
        }
        let mut params = Vec::new();
        let mut addresses = envelope.from().into_iter().chain(envelope.to());
        if let Some(a) = addresses.find(|a| !AsRef::<str>::as_ref(*a).is_ascii()) {
            if !conn.server_info().supports_feature(Extension::SmtpUtfEight) {
                return Err(EmailError::Invalid(format!(
                    "the mail server does not take addresses with accents or non-Latin letters such as {a}"
                )));
            }
            params.push(MailParameter::SmtpUtfEight);
        }
        // lettre encodes every part as 7-bit text, so this is only a safeguard.
        if !bytes.is_ascii() && conn.server_info().supports_feature(Extension::EightBitMime) {
            params.push(MailParameter::Body(MailBodyParameter::EightBitMime));
        }
        self.step(
            Step::Sender,
            conn.command(Mail::new(envelope.from().cloned(), params)),
        )
        .await?;
        for to in envelope.to() {
            self.step(Step::Recipient, conn.command(Rcpt::new(to.clone(), vec![])))
                .await?;
        }
        self.step(Step::Data, conn.command(Data)).await?;
        let reply = self.step(Step::Message, conn.message(bytes)).await?;
        let text = reply.message().collect::<Vec<_>>().join(" ");
        Ok(Reply {
            code: u16::from(reply.code()),
            text: tidy(&text, &self.secrets()),
        }
        .to_string())
    }

    /// One step bounded by the timeout, its failure classified.
    async fn step<T>(
        &self,
        step: Step,
        fut: impl Future<Output = Result<T, SmtpError>>,
    ) -> Result<T, EmailError> {
        match tokio::time::timeout(self.timeout, fut).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(self.classify(step, &e)),
            Err(_) => Err(self.timed_out(step)),
        }
    }

    /// How long a goodbye (QUIT) may take.
    fn close_wait(&self) -> Duration {
        self.timeout.min(Duration::from_secs(5))
    }

    fn secrets(&self) -> Vec<&str> {
        self.credentials
            .iter()
            .map(|c| c.password.as_str())
            .collect()
    }

    fn timed_out(&self, step: Step) -> EmailError {
        let waited = format!("no answer within {}", seconds(self.timeout));
        match step {
            // A server on 465 waits for a TLS hello and never greets a plain connection.
            Step::Connect if self.port == 465 && self.security != SmtpSecurity::Tls => {
                EmailError::SettingsRefused(Refusal {
                    problem: SettingsProblem::Tls,
                    detail: format!("{waited}; port 465 expects TLS from the start"),
                })
            }
            Step::Message => EmailError::Unconfirmed(waited),
            _ => EmailError::Unreachable(waited),
        }
    }

    fn classify(&self, step: Step, e: &SmtpError) -> EmailError {
        let secrets = self.secrets();
        let detail = tidy(&cause(e), &secrets);
        if let Some(code) = e.status() {
            let reply = Reply {
                code: u16::from(code),
                text: tidy(
                    &std::error::Error::source(e)
                        .map(|s| s.to_string())
                        .unwrap_or_default(),
                    &secrets,
                ),
            };
            if reply.code < 500 {
                return EmailError::Busy(reply);
            }
            let refused = |problem| {
                EmailError::SettingsRefused(Refusal {
                    problem,
                    detail: reply.to_string(),
                })
            };
            return match step {
                Step::Connect => refused(SettingsProblem::Connection),
                Step::StartTls => refused(SettingsProblem::Tls),
                Step::Auth => refused(SettingsProblem::SignIn),
                // 530: the server wants a sign-in the settings do not have.
                Step::Sender | Step::Recipient if reply.code == 530 => {
                    refused(SettingsProblem::SignIn)
                }
                Step::Sender => refused(SettingsProblem::Sender),
                // X.7.X is security or policy: on a submission server, "relay access
                // denied" and the like, never the client's mailbox.
                Step::Recipient if reply.enhanced_class() == Some(7) => {
                    refused(SettingsProblem::Relay)
                }
                Step::Recipient => EmailError::RecipientRefused(reply),
                Step::Data | Step::Message => EmailError::MessageRefused(reply),
            };
        }
        let tls_step =
            step == Step::StartTls || (step == Step::Connect && self.security == SmtpSecurity::Tls);
        let tls_failed = e.is_tls() || (tls_step && invalid_data(e));
        if tls_failed {
            return EmailError::SettingsRefused(Refusal {
                problem: SettingsProblem::Tls,
                detail,
            });
        }
        if e.is_client() {
            // lettre's own checks before sending a command.
            return match step {
                Step::StartTls => EmailError::SettingsRefused(Refusal {
                    problem: SettingsProblem::Tls,
                    detail: "the mail server does not offer STARTTLS".to_owned(),
                }),
                Step::Auth => EmailError::SettingsRefused(Refusal {
                    problem: SettingsProblem::SignIn,
                    detail:
                        "the mail server offers no sign-in method Roost supports (PLAIN, LOGIN)"
                            .to_owned(),
                }),
                _ => EmailError::Invalid(detail),
            };
        }
        if e.is_response() && step == Step::Connect {
            return EmailError::SettingsRefused(Refusal {
                problem: SettingsProblem::Connection,
                detail: format!("it did not answer as a mail server does ({detail})"),
            });
        }
        match step {
            Step::Message => EmailError::Unconfirmed(detail),
            _ => EmailError::Unreachable(detail),
        }
    }
}

/// The steps of a send, which decide what a refusal means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Connect,
    StartTls,
    Auth,
    Sender,
    Recipient,
    Data,
    Message,
}

/// A reply of the mail server, its text made safe for a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    pub text: String,
}

impl Reply {
    /// The class digit of an RFC 3463 enhanced status code at the start of the text
    /// (`5.7.1 Relaying denied` → 7).
    pub fn enhanced_class(&self) -> Option<u8> {
        let first = self.text.split_whitespace().next()?;
        let mut parts = first.split('.');
        let (class, subject, detail) = (parts.next()?, parts.next()?, parts.next()?);
        let digits =
            |s: &str| !s.is_empty() && s.len() <= 3 && s.bytes().all(|b| b.is_ascii_digit());
        if parts.next().is_some() || !matches!(class, "2" | "4" | "5") || !digits(detail) {
            return None;
        }
        subject.parse().ok().filter(|_| digits(subject))
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.text.is_empty() {
            write!(f, "{}", self.code)
        } else {
            write!(f, "{} {}", self.code, self.text)
        }
    }
}

/// Which part of the settings the mail server did not accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingsProblem {
    /// The username or password, or a sign-in the settings lack.
    SignIn,
    /// The TLS mode, port or certificate.
    Tls,
    /// The from address.
    Sender,
    /// The server will not pass the email on for these settings.
    Relay,
    /// The server refused to talk at all.
    Connection,
}

impl fmt::Display for SettingsProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SettingsProblem::SignIn => "sign-in failed",
            SettingsProblem::Tls => "the secure connection failed",
            SettingsProblem::Sender => "the from address was refused",
            SettingsProblem::Relay => "it will not pass the email on",
            SettingsProblem::Connection => "it refused the connection",
        })
    }
}

/// A settings problem and what the server said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub problem: SettingsProblem,
    pub detail: String,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.problem, self.detail)
    }
}

/// Why an email was not sent, in words the agent (or an admin) can act on. Never holds the
/// password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("The {whose} email address ({address}) is not valid: correct it and send again.")]
    BadAddress {
        whose: &'static str,
        address: String,
    },
    #[error("The email cannot be sent: {0}.")]
    Invalid(String),
    #[error(
        "The mail server refused the client's address ({0}): check the client's email address."
    )]
    RecipientRefused(Reply),
    #[error(
        "The mail server refused the email ({0}): change it, or ask an admin to check the email settings."
    )]
    MessageRefused(Reply),
    #[error("The email settings were refused by the mail server ({0}): an admin must check them.")]
    SettingsRefused(Refusal),
    #[error("The mail server is busy ({0}): the email will be retried in {wait}.", wait = seconds(BUSY_WAIT))]
    Busy(Reply),
    #[error("The mail server could not be reached ({0}): the email will be retried.")]
    Unreachable(String),
    #[error(
        "The mail server did not confirm the email ({0}): it will be retried with the same Message-ID."
    )]
    Unconfirmed(String),
}

impl From<EmailError> for ConnectorError {
    fn from(e: EmailError) -> Self {
        let reason = e.to_string();
        match e {
            EmailError::BadAddress { .. }
            | EmailError::Invalid(_)
            | EmailError::RecipientRefused(_)
            | EmailError::MessageRefused(_) => ConnectorError::Permanent { reason },
            EmailError::SettingsRefused(_) => ConnectorError::NeedsAdmin { reason },
            EmailError::Busy(_) => ConnectorError::Retryable {
                after: Some(BUSY_WAIT),
                reason,
            },
            EmailError::Unreachable(_) | EmailError::Unconfirmed(_) => ConnectorError::Retryable {
                after: None,
                reason,
            },
        }
    }
}

/// Why a step failed, from the innermost cause ("Connection refused (os error 111)").
fn cause(e: &SmtpError) -> String {
    let mut text = e.to_string();
    let mut next = std::error::Error::source(e);
    while let Some(err) = next {
        text = match err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            // An io::Error wrapping another error (rustls's) hides it from `source`.
            Some(inner) => inner.to_string(),
            None => err.to_string(),
        };
        next = err.source();
    }
    text
}

/// TLS libraries report handshake and certificate failures as `InvalidData`.
fn invalid_data(e: &SmtpError) -> bool {
    let mut next = std::error::Error::source(e);
    while let Some(err) = next {
        if err
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::InvalidData)
        {
            return true;
        }
        next = err.source();
    }
    false
}

fn is_loopback(host: &str) -> bool {
    let host = host.trim_matches(['[', ']']);
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn mailbox(contact: &Contact, whose: &'static str) -> Result<Mailbox, EmailError> {
    let address = contact.email.trim();
    let parsed: Address = address.parse().map_err(|_| EmailError::BadAddress {
        whose,
        address: one_line(address),
    })?;
    let name = one_line(&contact.name);
    Ok(Mailbox::new((!name.is_empty()).then_some(name), parsed))
}

/// `<id@domain>` from the caller's id (brackets optional), or a new one.
fn checked_message_id(id: Option<&str>) -> Result<String, EmailError> {
    let Some(id) = id.map(str::trim).filter(|i| !i.is_empty()) else {
        return Ok(format!("<{}@{MESSAGE_ID_DOMAIN}>", uuid::Uuid::new_v4()));
    };
    let bare = id
        .strip_prefix('<')
        .and_then(|i| i.strip_suffix('>'))
        .unwrap_or(id);
    let ok = bare.len() <= 250
        && bare
            .split_once('@')
            .is_some_and(|(l, d)| !l.is_empty() && !d.is_empty() && !d.contains('@'))
        && bare
            .bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b'<' | b'>' | b'"' | b'\\'));
    if !ok {
        return Err(EmailError::Invalid(
            "the Message-ID is not of the form <id@domain>".to_owned(),
        ));
    }
    Ok(format!("<{bare}>"))
}

/// Text on one line: runs of whitespace (newlines included) become one space.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Paragraphs split at blank lines, each line trimmed at the end.
fn paragraphs(s: &str) -> Vec<String> {
    let s = s.replace("\r\n", "\n").replace('\r', "\n");
    s.split("\n\n")
        .map(|p| {
            p.lines()
                .map(str::trim_end)
                .filter(|l| !l.trim().is_empty())
                .collect::<Vec<_>>()
                .join("\n")
        })
        .filter(|p| !p.is_empty())
        .collect()
}

/// `s` safe inside HTML text and quoted attribute values.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// An absolute http(s) URL, normalised; anything else (relative, `javascript:`, `data:`) is
/// `None`.
fn web_url(raw: &str) -> Option<String> {
    let url = url::Url::parse(raw.trim()).ok()?;
    (matches!(url.scheme(), "http" | "https") && url.host().is_some()).then(|| url.to_string())
}

/// `#rrggbb` in lower case from `#rgb` or `#rrggbb`, else [`DEFAULT_BRAND_COLOR`].
fn brand_color(raw: &str) -> String {
    let hex = raw.trim().strip_prefix('#').unwrap_or("");
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return DEFAULT_BRAND_COLOR.to_owned();
    }
    match hex.len() {
        6 => format!("#{}", hex.to_ascii_lowercase()),
        3 => {
            let doubled: String = hex.chars().flat_map(|c| [c, c]).collect();
            format!("#{}", doubled.to_ascii_lowercase())
        }
        _ => DEFAULT_BRAND_COLOR.to_owned(),
    }
}

/// White or near-black, whichever contrasts more with `#rrggbb` (WCAG relative luminance).
fn text_color_on(color: &str) -> &'static str {
    let channel = |i: usize| {
        let v = u8::from_str_radix(&color[i..i + 2], 16).unwrap_or(0) as f64 / 255.0;
        if v <= 0.039_28 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    let l = 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
    // Contrast with white is 1.05 / (l + 0.05); with black (l + 0.05) / 0.05.
    if 1.05 / (l + 0.05) >= (l + 0.05) / 0.05 {
        "#ffffff"
    } else {
        "#111827"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn showcase() -> Showcase {
        Showcase {
            branding: Branding {
                company: "Acme Realty".into(),
                color: "#0B5CAD".into(),
                logo_url: None,
            },
            agent: Contact {
                name: "Sara Khan".into(),
                email: "sara@acme.example".into(),
            },
            client: Contact {
                name: "Dana Al Mansouri".into(),
                email: "dana@example.com".into(),
            },
            message: "Hi Dana,\n\nThese two match <script>alert(1)</script> & more.".into(),
            listings: vec![
                ListingCard {
                    title: "Villa with garden".into(),
                    price: "AED 4,250,000".into(),
                    facts: "3 bed · 1,850 sqft · Arabian Ranches".into(),
                    photo_url: Some("https://cdn.example.com/p/1.jpg".into()),
                    link: Some("javascript:alert(1)".into()),
                },
                ListingCard {
                    title: "Marina \"view\" flat".into(),
                    price: "AED 1,900,000".into(),
                    facts: "1 bed".into(),
                    photo_url: Some("/relative.jpg".into()),
                    link: Some("https://acme.example/l/2".into()),
                },
            ],
            message_id: Some("action-1@roost.local".into()),
        }
    }

    #[test]
    fn html_escapes_user_text_and_drops_unsafe_urls() {
        let html = showcase().html();
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; more."));
        assert!(!html.contains("<script"));
        assert!(html.contains("Marina &quot;view&quot; flat"));
        assert!(!html.contains("javascript:"));
        assert!(!html.contains("/relative.jpg"));
        assert!(html.contains("src=\"https://cdn.example.com/p/1.jpg\""));
        assert!(html.contains("href=\"https://acme.example/l/2\""));
        assert!(html.contains("background-color:#0b5cad"));
    }

    #[test]
    fn text_lists_every_listing() {
        let text = showcase().text();
        assert!(text.starts_with("Hi Dana,\n\nThese two match"));
        assert!(text.contains("Villa with garden\nAED 4,250,000\n3 bed · 1,850 sqft"));
        assert!(text.contains("Details: https://acme.example/l/2\n"));
        assert!(!text.contains("javascript"));
        assert!(text.ends_with("-- \nSara Khan\nAcme Realty\nsara@acme.example\n"));
    }

    #[test]
    fn subject_counts_homes() {
        let mut s = showcase();
        assert_eq!(s.subject(), "2 homes for you from Acme Realty");
        s.listings.truncate(1);
        assert_eq!(s.subject(), "A home for you from Acme Realty");
    }

    #[test]
    fn brand_colors_are_checked() {
        assert_eq!(brand_color("#0B5CAD"), "#0b5cad");
        assert_eq!(brand_color("#fa0"), "#ffaa00");
        assert_eq!(brand_color("red;background:url(x)"), DEFAULT_BRAND_COLOR);
        assert_eq!(brand_color("#12345"), DEFAULT_BRAND_COLOR);
        assert_eq!(text_color_on("#0b5cad"), "#ffffff");
        assert_eq!(text_color_on("#ffdd00"), "#111827");
    }

    #[test]
    fn message_ids_get_brackets_and_are_checked() {
        assert_eq!(
            checked_message_id(Some("a-1@roost.local")).unwrap(),
            "<a-1@roost.local>"
        );
        assert_eq!(
            checked_message_id(Some("<a-1@roost.local>")).unwrap(),
            "<a-1@roost.local>"
        );
        assert!(checked_message_id(Some("no at sign")).is_err());
        assert!(checked_message_id(Some("a@b\r\nBcc: x@y")).is_err());
        let made = checked_message_id(None).unwrap();
        assert!(made.starts_with('<') && made.ends_with("@roost.local>"));
    }

    #[test]
    fn bad_addresses_are_permanent_and_named() {
        let mut s = showcase();
        s.client.email = "dana at example".into();
        let e = s.email().unwrap_err();
        assert_eq!(
            e.to_string(),
            "The client's email address (dana at example) is not valid: correct it and send again."
        );
        assert!(matches!(
            ConnectorError::from(e),
            ConnectorError::Permanent { .. }
        ));
        s = showcase();
        s.listings.clear();
        assert!(matches!(s.email(), Err(EmailError::Invalid(_))));
    }

    #[test]
    fn settings_are_checked_and_the_password_stays_out_of_debug() {
        let settings = SmtpSettings::new(
            "smtp.example.com",
            SmtpSecurity::StartTls,
            "listings@acme.example",
            "Acme Realty",
        )
        .with_credentials("listings@acme.example", "s3cret-pass");
        assert_eq!(settings.port, 587);
        assert!(!format!("{settings:?}").contains("s3cret-pass"));
        let mailer = Mailer::new(settings.clone()).unwrap();
        assert!(!format!("{mailer:?}").contains("s3cret-pass"));

        let plain = SmtpSettings {
            security: SmtpSecurity::Plain,
            ..settings.clone()
        };
        assert!(Mailer::new(plain.clone()).is_err());
        let local = SmtpSettings {
            host: "127.0.0.1".into(),
            ..plain
        };
        assert!(Mailer::new(local).is_ok());
        let bad_from = SmtpSettings {
            from_address: "listings".into(),
            ..settings.clone()
        };
        assert_eq!(
            Mailer::new(bad_from).unwrap_err().to_string(),
            "the email from address is not an email address"
        );
        for host in ["smtp://smtp.example.com", "smtp.example.com:587", " "] {
            let bad = SmtpSettings {
                host: host.into(),
                ..settings.clone()
            };
            assert!(Mailer::new(bad).is_err(), "{host}");
        }
        let ipv6 = SmtpSettings {
            host: "[::1]".into(),
            security: SmtpSecurity::Plain,
            ..settings
        };
        assert!(Mailer::new(ipv6).is_ok());
    }

    #[test]
    fn the_wire_message_has_the_headers() {
        let mailer = Mailer::new(SmtpSettings::new(
            "localhost",
            SmtpSecurity::Plain,
            "listings@acme.example",
            "Acme Realty",
        ))
        .unwrap();
        let email = showcase().email().unwrap();
        let raw = String::from_utf8(mailer.message_bytes(&email).unwrap()).unwrap();
        assert!(raw.contains("From: \"Acme Realty\" <listings@acme.example>\r\n"));
        assert!(raw.contains("Reply-To: \"Sara Khan\" <sara@acme.example>\r\n"));
        assert!(raw.contains("Message-ID: <action-1@roost.local>\r\n"));
        assert!(raw.contains("multipart/alternative"));
        assert!(raw.is_ascii());
    }

    #[test]
    fn enhanced_codes_are_read() {
        let r = |text: &str| Reply {
            code: 554,
            text: text.into(),
        };
        assert_eq!(r("5.7.1 Relay access denied").enhanced_class(), Some(7));
        assert_eq!(r("5.1.1 <x@y>: unknown").enhanced_class(), Some(1));
        assert_eq!(r("Relay access denied").enhanced_class(), None);
        assert_eq!(r("1.2.3.4 is blocked").enhanced_class(), None);
    }

    #[test]
    fn classes_for_the_outbox() {
        let reply = Reply {
            code: 451,
            text: "4.3.0 try later".into(),
        };
        let e = ConnectorError::from(EmailError::Busy(reply));
        assert_eq!(e.retry_after(), Some(BUSY_WAIT));
        assert_eq!(
            e.to_string(),
            "The mail server is busy (451 4.3.0 try later): the email will be retried in 60 s."
        );
        let e = ConnectorError::from(EmailError::SettingsRefused(Refusal {
            problem: SettingsProblem::SignIn,
            detail: "535 5.7.8 Authentication credentials invalid".into(),
        }));
        assert!(matches!(e, ConnectorError::NeedsAdmin { .. }));
        assert_eq!(
            e.to_string(),
            "The email settings were refused by the mail server (sign-in failed: 535 5.7.8 Authentication credentials invalid): an admin must check them."
        );
    }
}
