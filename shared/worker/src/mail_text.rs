//! Small helpers for writing e-mails: HTML escaping, names, times people read.

/// `text` safe inside HTML text and quoted attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A user-set name fit for a Subject or a text part: every run of control characters (CR, LF,
/// tab and the other C0 and C1 controls, DEL) becomes one space, so that a name cannot start a
/// new header line in a transport that writes headers; then trimmed.
pub fn plain_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_controls = false;
    for c in name.chars() {
        if c.is_control() {
            if !in_controls {
                out.push(' ');
            }
            in_controls = true;
        } else {
            out.push(c);
            in_controls = false;
        }
    }
    out.trim().to_owned()
}

/// `first last`, or `first` when there is no last name, as [`plain_name`].
pub fn person_name(first: &str, last: Option<&str>) -> String {
    match last.map(plain_name).filter(|l| !l.is_empty()) {
        Some(last) => format!("{} {last}", plain_name(first)),
        None => plain_name(first),
    }
}

/// A Postgres timestamp as JSON gives it, `2026-12-08T22:50:00.123+00:00`, as
/// `2026-12-08 22:50 UTC` (another offset is shown as `(UTC+01:00)`); anything else as given.
pub fn readable_time(timestamp: &str) -> String {
    let (Some(date), Some(time)) = (timestamp.get(..10), timestamp.get(11..16)) else {
        return timestamp.to_owned();
    };
    if timestamp.as_bytes().get(10) != Some(&b'T') {
        return timestamp.to_owned();
    }
    let offset = timestamp
        .rfind(['+', '-'])
        .filter(|&at| at > 16)
        .map(|at| &timestamp[at..]);
    match offset {
        None | Some("+00:00") => format!("{date} {time} UTC"),
        Some(offset) => format!("{date} {time} (UTC{offset})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escaping_covers_text_and_attributes() {
        assert_eq!(
            escape_html(r#"<a href="x">O'Brien & co</a>"#),
            "&lt;a href=&quot;x&quot;&gt;O&#39;Brien &amp; co&lt;/a&gt;"
        );
    }

    #[test]
    fn names_skip_a_missing_last_name() {
        assert_eq!(person_name("Ada", Some("Lovelace")), "Ada Lovelace");
        assert_eq!(person_name("Ada", Some(" ")), "Ada");
        assert_eq!(person_name("Ada", None), "Ada");
    }

    #[test]
    fn names_lose_their_control_characters() {
        assert_eq!(
            plain_name("Boss\r\nBcc: leak@evil.example"),
            "Boss Bcc: leak@evil.example"
        );
        assert_eq!(plain_name("\tA\u{0}\u{7f}\u{85}\u{9b}B\n"), "A B");
        assert_eq!(plain_name("Zoë Ω"), "Zoë Ω", "other characters stay");
        assert_eq!(
            person_name("Ada\r\n", Some("Love\u{1b}lace")),
            "Ada Love lace"
        );
        assert_eq!(person_name("Ada", Some("\r\n")), "Ada");
    }

    #[test]
    fn times_are_shown_with_their_zone() {
        assert_eq!(
            readable_time("2026-12-08T22:50:00+00:00"),
            "2026-12-08 22:50 UTC"
        );
        assert_eq!(
            readable_time("2026-12-08T22:50:00.5+01:00"),
            "2026-12-08 22:50 (UTC+01:00)"
        );
        assert_eq!(readable_time("soon"), "soon");
    }
}
