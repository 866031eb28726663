//! The web page: the list of caught messages (`/`) and one message (`/view/{ID}`)
//! with its HTML (in a sandboxed frame: no scripts, no forms) and its text.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use uuid::Uuid;

use crate::mail::store::{Address, Message};
use crate::project::SharedProject;

pub async fn inbox(State(project): State<SharedProject>) -> Html<String> {
    let messages = project.mail.list(None);
    let rows: String = messages
        .iter()
        .map(|m| {
            format!(
                "<tr class=\"{read}\"><td>{created}</td><td>{from}</td><td>{to}</td>\
                 <td><a href=\"/view/{id}\">{subject}</a></td></tr>",
                read = if m.read { "read" } else { "unread" },
                created = m.created.format("%Y-%m-%d %H:%M:%S"),
                from = escape(&show(std::slice::from_ref(&m.from))),
                to = escape(&show(&m.to)),
                id = m.id,
                subject = escape(&m.subject),
            )
        })
        .collect();
    let body = if messages.is_empty() {
        "<p>No messages yet. What the Workers send (MAIL_TRANSPORT=resend, MAIL_API_URL=this page's address) lands here.</p>".to_owned()
    } else {
        format!(
            "<table><thead><tr><th>Received</th><th>From</th><th>To</th><th>Subject</th></tr></thead>\
             <tbody>{rows}</tbody></table>"
        )
    };
    Html(page(
        &format!("Mail ({})", messages.len()),
        &format!("<h1>Caught mail</h1>{body}"),
    ))
}

pub async fn view(State(project): State<SharedProject>, Path(id): Path<String>) -> Response {
    let Some(m) = Uuid::try_parse(&id)
        .ok()
        .and_then(|id| project.mail.open(id))
    else {
        return (
            StatusCode::NOT_FOUND,
            Html(page("Not found", "<p>No such message.</p>")),
        )
            .into_response();
    };
    Html(page(&m.subject, &message_body(&m))).into_response()
}

fn message_body(m: &Message) -> String {
    let html = if m.html.is_empty() {
        "<p>(no HTML part)</p>".to_owned()
    } else {
        format!(
            "<iframe title=\"HTML\" sandbox srcdoc=\"{}\"></iframe>",
            escape(&m.html)
        )
    };
    format!(
        "<p><a href=\"/\">← all messages</a></p><h1>{subject}</h1>\
         <dl><dt>From</dt><dd>{from}</dd><dt>To</dt><dd>{to}</dd><dt>Date</dt><dd>{date}</dd></dl>\
         <h2>HTML</h2>{html}<h2>Text</h2><pre>{text}</pre>",
        subject = escape(&m.subject),
        from = escape(&show(std::slice::from_ref(&m.from))),
        to = escape(&show(&m.to)),
        date = m.created.to_rfc2822(),
        text = escape(&m.text),
    )
}

fn show(addresses: &[Address]) -> String {
    addresses
        .iter()
        .map(|a| {
            if a.name.is_empty() {
                a.address.clone()
            } else {
                format!("{} <{}>", a.name, a.address)
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title} · devstack</title>\
         <style>body{{font-family:sans-serif;margin:2rem}}table{{border-collapse:collapse;width:100%}}\
         td,th{{border-bottom:1px solid #ddd;padding:.4rem;text-align:left}}tr.unread{{font-weight:bold}}\
         iframe{{width:100%;height:24rem;border:1px solid #ccc}}pre{{white-space:pre-wrap;background:#f6f6f6;padding:1rem}}</style>\
         </head><body>{body}</body></html>",
        title = escape(title),
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_html_part_is_framed_escaped_and_sandboxed() {
        let m = Message {
            id: Uuid::new_v4(),
            from: Address::parse("a@example.com").unwrap(),
            to: vec![Address::parse("Ada <ada@example.com>").unwrap()],
            cc: vec![],
            bcc: vec![],
            reply_to: vec![],
            subject: "<b>hi</b>".into(),
            text: "line <1>".into(),
            html: "<p onclick=\"x\">Hi</p>".into(),
            created: chrono::Utc::now(),
            read: false,
        };
        let body = message_body(&m);
        assert!(body.contains("sandbox srcdoc=\"&lt;p onclick=&quot;x&quot;&gt;Hi&lt;/p&gt;\""));
        assert!(body.contains("<h1>&lt;b&gt;hi&lt;/b&gt;</h1>"));
        assert!(body.contains("Ada &lt;ada@example.com&gt;"));
        assert!(body.contains("<pre>line &lt;1&gt;</pre>"));
    }
}
