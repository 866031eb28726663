//! Device, OS, browser and engine from a `User-Agent` header, for the visitor record.
//!
//! A small parser of our own for the major families rather than a parser crate: the maintained
//! Rust ones (woothee, uaparser) match with the `regex` crate and large pattern tables, which
//! would multiply the Worker's wasm size for a field that is analytics, not security. Whatever
//! it does not recognise stays `None` (the columns are nullable), never a guess.
//!
//! The values are the ones the `visitor` table's checks allow: device_type `desktop|mobile|tablet`,
//! device_class `phone|tablet|desktop|tv|bot`, runtime_engine `chromium|webkit|gecko|webview`.

/// Longest version string kept (the column allows 50).
const MAX_VERSION_LEN: usize = 50;
/// Longest device model kept (the column allows 100).
const MAX_MODEL_LEN: usize = 100;

/// What a `User-Agent` says about the device and software behind it.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DeviceProfile {
    pub device_type: Option<&'static str>,
    pub device_class: Option<&'static str>,
    pub device_brand: Option<&'static str>,
    pub device_model: Option<String>,
    pub os_name: Option<&'static str>,
    pub os_version: Option<String>,
    pub browser_name: Option<String>,
    pub browser_version: Option<String>,
    pub runtime_engine: Option<&'static str>,
}

/// Substrings (lower-case) that mark automated clients.
const BOT_MARKERS: &[&str] = &[
    "bot",
    "crawler",
    "spider",
    "slurp",
    "headlesschrome",
    "facebookexternalhit",
    "curl/",
    "wget/",
    "python-requests",
    "python-urllib",
    "go-http-client",
    "okhttp",
    "axios/",
    "node-fetch",
    "lighthouse",
];

/// Substrings that mark televisions and streaming boxes.
const TV_MARKERS: &[&str] = &[
    "smart-tv", "smarttv", "tizen", "web0s", "webos", "appletv", "crkey", "bravia", "hbbtv",
    "aftb", "aftt", "roku",
];

/// Parses `ua`; an empty header gives an empty profile.
pub fn parse_user_agent(ua: &str) -> DeviceProfile {
    let lower = ua.to_ascii_lowercase();
    if lower.trim().is_empty() {
        return DeviceProfile::default();
    }
    if BOT_MARKERS.iter().any(|m| lower.contains(m)) {
        return bot_profile(ua);
    }
    let (os_name, os_version) = detect_os(ua).unzip();
    let mut profile = DeviceProfile {
        os_name,
        os_version: os_version.flatten(),
        ..DeviceProfile::default()
    };
    detect_device(ua, &lower, profile.os_name, &mut profile);
    detect_browser(ua, profile.os_name, &mut profile);
    profile
}

/// A crawler or script: its product token (`Googlebot/2.1`, `curl/8.5.0`) as the "browser".
fn bot_profile(ua: &str) -> DeviceProfile {
    let token = ua
        .split(|c: char| c.is_whitespace() || c == ';' || c == '(' || c == ')' || c == ',')
        .find(|t| {
            let l = t.to_ascii_lowercase();
            BOT_MARKERS
                .iter()
                .any(|m| l.contains(m.trim_end_matches('/')))
        })
        .or_else(|| ua.split_whitespace().next())
        .unwrap_or_default();
    let (name, version) = match token.split_once('/') {
        Some((name, version)) => (name, version_prefix(version)),
        None => (token, None),
    };
    let name = name.trim_start_matches('+');
    DeviceProfile {
        device_class: Some("bot"),
        browser_name: (!name.is_empty()).then(|| truncate(name, MAX_MODEL_LEN)),
        browser_version: version,
        ..DeviceProfile::default()
    }
}

fn detect_os(ua: &str) -> Option<(&'static str, Option<String>)> {
    if let Some(v) = after(ua, "Windows NT ") {
        let version = version_prefix(v).map(|v| windows_release(&v));
        return Some(("Windows", version));
    }
    if ua.contains("iPhone") || ua.contains("iPad") || ua.contains("iPod") {
        let version = after(ua, "iPhone OS ")
            .or_else(|| after(ua, "CPU OS "))
            .and_then(underscored_version);
        return Some(("iOS", version));
    }
    if let Some(v) = after(ua, "Android") {
        let version = version_prefix(v.trim_start_matches([' ', ';']));
        return Some(("Android", version));
    }
    if ua.contains("CrOS") {
        return Some(("ChromeOS", None));
    }
    if let Some(v) = after(ua, "Mac OS X") {
        return Some(("macOS", underscored_version(v.trim_start())));
    }
    if ua.contains("Linux") || ua.contains("X11") {
        return Some(("Linux", None));
    }
    None
}

/// Marketing names for the NT versions (NT 10.0 is both 10 and 11; the UA cannot tell).
fn windows_release(nt: &str) -> String {
    match nt {
        "10.0" => "10",
        "6.3" => "8.1",
        "6.2" => "8",
        "6.1" => "7",
        "6.0" => "Vista",
        "5.1" | "5.2" => "XP",
        other => other,
    }
    .to_owned()
}

fn detect_device(ua: &str, lower: &str, os: Option<&str>, profile: &mut DeviceProfile) {
    let (device_type, class) = if TV_MARKERS.iter().any(|m| lower.contains(m)) {
        (None, "tv")
    } else if ua.contains("iPad") || (os == Some("Android") && !ua.contains("Mobile")) {
        (Some("tablet"), "tablet")
    } else if ua.contains("iPhone") || ua.contains("iPod") || ua.contains("Mobile") {
        (Some("mobile"), "phone")
    } else if matches!(os, Some("Windows" | "macOS" | "Linux" | "ChromeOS")) {
        (Some("desktop"), "desktop")
    } else {
        return;
    };
    profile.device_type = device_type;
    profile.device_class = Some(class);
    for apple in ["iPhone", "iPad", "iPod"] {
        if ua.contains(apple) {
            profile.device_brand = Some("Apple");
            profile.device_model = Some(apple.to_owned());
        }
    }
    if os == Some("Android") {
        profile.device_model = android_model(ua);
    }
}

/// `…(Linux; Android 14; Pixel 8 Build/AP1A) …` → `Pixel 8`. Chrome's reduced UA sends `K`,
/// which names nothing.
fn android_model(ua: &str) -> Option<String> {
    let inside = after(ua, "Android")?.split(')').next()?;
    let model = inside.split(';').nth(1)?.trim();
    let model = model.split(" Build/").next()?.trim();
    let meaningless = model.is_empty() || model == "K" || model == "Mobile" || model == "wv";
    (!meaningless && !model.starts_with("rv:")).then(|| truncate(model, MAX_MODEL_LEN))
}

/// Browser families, most specific first: Edge, Opera, Samsung and Yandex also say `Chrome/`,
/// Chrome also says `Safari/`.
const BROWSER_TOKENS: &[(&str, &str)] = &[
    ("EdgiOS/", "Edge"),
    ("EdgA/", "Edge"),
    ("Edg/", "Edge"),
    ("OPiOS/", "Opera"),
    ("OPR/", "Opera"),
    ("SamsungBrowser/", "Samsung Internet"),
    ("YaBrowser/", "Yandex Browser"),
    ("FxiOS/", "Firefox"),
    ("CriOS/", "Chrome"),
    ("Firefox/", "Firefox"),
    ("Chromium/", "Chromium"),
    ("Chrome/", "Chrome"),
];

fn detect_browser(ua: &str, os: Option<&str>, profile: &mut DeviceProfile) {
    let ios = os == Some("iOS");
    // Android's WebView marks itself with `; wv)`; on iOS an in-app view has no `Safari/`.
    let android_webview = os == Some("Android") && ua.contains("; wv)");
    for (token, name) in BROWSER_TOKENS {
        if let Some(v) = after(ua, token) {
            profile.browser_name = Some((*name).to_owned());
            profile.browser_version = version_prefix(v);
            profile.runtime_engine = Some(if android_webview {
                "webview"
            } else if ios {
                // Every browser on iOS runs on WebKit.
                "webkit"
            } else if *name == "Firefox" {
                "gecko"
            } else {
                "chromium"
            });
            return;
        }
    }
    if ua.contains("AppleWebKit/") {
        if ua.contains("Safari/") {
            profile.browser_name = Some("Safari".to_owned());
            profile.browser_version = after(ua, "Version/").and_then(version_prefix);
            profile.runtime_engine = Some("webkit");
        } else if ios {
            profile.runtime_engine = Some("webview");
        }
        return;
    }
    if let Some(v) = after(ua, "MSIE ") {
        profile.browser_name = Some("Internet Explorer".to_owned());
        profile.browser_version = version_prefix(v);
    } else if ua.contains("Trident/") {
        profile.browser_name = Some("Internet Explorer".to_owned());
        profile.browser_version = after(ua, "rv:").and_then(version_prefix);
    }
}

/// The text right after the first `marker`.
fn after<'a>(ua: &'a str, marker: &str) -> Option<&'a str> {
    ua.find(marker).map(|i| &ua[i + marker.len()..])
}

/// The leading `1.2.3` of `text`, if it starts with a digit.
fn version_prefix(text: &str) -> Option<String> {
    let end = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let version = text[..end].trim_end_matches('.');
    (!version.is_empty()).then(|| truncate(version, MAX_VERSION_LEN))
}

/// `17_5_1 like Mac OS X` → `17.5.1`.
fn underscored_version(text: &str) -> Option<String> {
    let end = text
        .find(|c: char| !(c.is_ascii_digit() || c == '_' || c == '.'))
        .unwrap_or(text.len());
    version_prefix(&text[..end].replace('_', "."))
}

fn truncate(text: &str, max_chars: usize) -> String {
    text.chars().take(max_chars).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHROME_ANDROID: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8 Build/AP1A.240505.005) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.6478.71 Mobile Safari/537.36";
    const SAFARI_IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
    const FIREFOX_WINDOWS: &str =
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0";
    const GOOGLEBOT: &str =
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";

    /// device type, device class, OS, OS version, browser, browser version, engine.
    type Summary = (
        Option<&'static str>,
        Option<&'static str>,
        Option<&'static str>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<&'static str>,
    );

    fn profile(
        device: (Option<&'static str>, Option<&'static str>),
        os: (Option<&'static str>, Option<&str>),
        browser: (Option<&str>, Option<&str>),
        engine: Option<&'static str>,
    ) -> Summary {
        (
            device.0,
            device.1,
            os.0,
            os.1.map(str::to_owned),
            browser.0.map(str::to_owned),
            browser.1.map(str::to_owned),
            engine,
        )
    }

    fn summary(p: DeviceProfile) -> Summary {
        (
            p.device_type,
            p.device_class,
            p.os_name,
            p.os_version,
            p.browser_name,
            p.browser_version,
            p.runtime_engine,
        )
    }

    #[test]
    fn chrome_on_android_phone() {
        let p = parse_user_agent(CHROME_ANDROID);
        assert_eq!(p.device_model.as_deref(), Some("Pixel 8"));
        assert_eq!(
            summary(p),
            profile(
                (Some("mobile"), Some("phone")),
                (Some("Android"), Some("14")),
                (Some("Chrome"), Some("126.0.6478.71")),
                Some("chromium")
            )
        );
    }

    #[test]
    fn safari_on_iphone() {
        let p = parse_user_agent(SAFARI_IPHONE);
        assert_eq!(
            (p.device_brand, p.device_model.as_deref()),
            (Some("Apple"), Some("iPhone"))
        );
        assert_eq!(
            summary(p),
            profile(
                (Some("mobile"), Some("phone")),
                (Some("iOS"), Some("17.5")),
                (Some("Safari"), Some("17.5")),
                Some("webkit")
            )
        );
    }

    #[test]
    fn firefox_on_windows_desktop() {
        assert_eq!(
            summary(parse_user_agent(FIREFOX_WINDOWS)),
            profile(
                (Some("desktop"), Some("desktop")),
                (Some("Windows"), Some("10")),
                (Some("Firefox"), Some("127.0")),
                Some("gecko")
            )
        );
    }

    #[test]
    fn bots_and_scripts() {
        assert_eq!(
            summary(parse_user_agent(GOOGLEBOT)),
            profile(
                (None, Some("bot")),
                (None, None),
                (Some("Googlebot"), Some("2.1")),
                None
            )
        );
        let curl = parse_user_agent("curl/8.5.0");
        assert_eq!(
            (
                curl.device_class,
                curl.browser_name.as_deref(),
                curl.browser_version.as_deref()
            ),
            (Some("bot"), Some("curl"), Some("8.5.0"))
        );
        let bing = parse_user_agent(
            "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm) Chrome/116.0.1938.76 Safari/537.36",
        );
        assert_eq!(
            (bing.device_class, bing.browser_name.as_deref()),
            (Some("bot"), Some("bingbot"))
        );
    }

    #[test]
    fn other_families() {
        let cases = [
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
                (
                    "desktop",
                    "macOS",
                    Some("10.15.7"),
                    Some("Safari"),
                    "webkit",
                ),
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.2592.68",
                ("desktop", "Windows", Some("10"), Some("Edge"), "chromium"),
            ),
            (
                "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/126.0.6478.54 Mobile/15E148 Safari/604.1",
                ("tablet", "iOS", Some("16.6"), Some("Chrome"), "webkit"),
            ),
            (
                "Mozilla/5.0 (Linux; Android 13; SM-X200) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Safari/537.36",
                (
                    "tablet",
                    "Android",
                    Some("13"),
                    Some("Samsung Internet"),
                    "chromium",
                ),
            ),
            (
                "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36",
                ("mobile", "Android", Some("10"), Some("Chrome"), "chromium"),
            ),
            (
                "Mozilla/5.0 (Linux; Android 12; SM-G991B Build/SP1A.210812.016; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/125.0.6422.165 Mobile Safari/537.36",
                ("mobile", "Android", Some("12"), Some("Chrome"), "webview"),
            ),
            (
                "Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0",
                ("desktop", "Linux", None, Some("Firefox"), "gecko"),
            ),
            (
                "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
                ("desktop", "ChromeOS", None, Some("Chrome"), "chromium"),
            ),
        ];
        for (ua, (device_type, os, os_version, browser, engine)) in cases {
            let p = parse_user_agent(ua);
            assert_eq!(p.device_type, Some(device_type), "{ua}");
            assert_eq!(p.os_name, Some(os), "{ua}");
            assert_eq!(p.os_version.as_deref(), os_version, "{ua}");
            assert_eq!(p.browser_name.as_deref(), browser, "{ua}");
            assert_eq!(p.runtime_engine, Some(engine), "{ua}");
        }
        let reduced = parse_user_agent(
            "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36",
        );
        assert_eq!(reduced.device_model, None, "`K` names no model");
    }

    #[test]
    fn in_app_views_tvs_and_the_unknown() {
        let in_app = parse_user_agent(
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
        );
        assert_eq!(
            (in_app.browser_name, in_app.runtime_engine),
            (None, Some("webview"))
        );
        let tv = parse_user_agent(
            "Mozilla/5.0 (SMART-TV; LINUX; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/4.0 Chrome/76.0.3809.146 TV Safari/537.36",
        );
        assert_eq!((tv.device_type, tv.device_class), (None, Some("tv")));
        assert_eq!(parse_user_agent(""), DeviceProfile::default());
        assert_eq!(parse_user_agent("   "), DeviceProfile::default());
        let odd = parse_user_agent("SomethingElse/1.0");
        assert_eq!(odd, DeviceProfile::default());
        let ie = parse_user_agent("Mozilla/5.0 (Windows NT 6.1; Trident/7.0; rv:11.0) like Gecko");
        assert_eq!(
            (
                ie.os_version.as_deref(),
                ie.browser_name.as_deref(),
                ie.browser_version.as_deref(),
                ie.runtime_engine
            ),
            (Some("7"), Some("Internet Explorer"), Some("11.0"), None)
        );
    }

    #[test]
    fn long_and_hostile_values_are_bounded() {
        let ua = format!(
            "Mozilla/5.0 (Linux; Android 14; {} Build/X) Chrome/{} Mobile",
            "M".repeat(500),
            "1".repeat(500)
        );
        let p = parse_user_agent(&ua);
        assert_eq!(p.device_model.unwrap().chars().count(), MAX_MODEL_LEN);
        assert_eq!(p.browser_version.unwrap().len(), MAX_VERSION_LEN);
        let bot = parse_user_agent(&format!("{}bot/1", "é".repeat(300)));
        assert_eq!(bot.browser_name.unwrap().chars().count(), MAX_MODEL_LEN);
    }
}
