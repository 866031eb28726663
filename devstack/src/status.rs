//! What `supabase status` prints, for people, for scripts (`--json`, `--env`) and for `wrangler dev`
//! (`.dev.vars`).

use std::path::Path;

use serde_json::{Value, json};

use crate::config::ProjectConfig;
use crate::signing_keys::KeyFile;

/// `(kid, algorithm, state)` of each signing key, read from the key file now; empty for a
/// `--legacy-jwt` project (or a key file that cannot be read, which start-up already refused).
pub fn signing_keys(project: &ProjectConfig) -> Vec<(String, &'static str, &'static str)> {
    let Some(path) = &project.signing_keys_path else {
        return Vec::new();
    };
    let Ok(set) = KeyFile::load(path).and_then(|file| file.key_set()) else {
        return Vec::new();
    };
    set.keys()
        .iter()
        .map(|k| (k.kid.clone(), k.alg.name(), k.state.label()))
        .collect()
}

pub fn as_json(projects: &[ProjectConfig], db_port: u16) -> Value {
    let list: Vec<Value> = projects
        .iter()
        .map(|p| {
            json!({
                "name": p.name,
                "API_URL": p.api_url(),
                "REST_URL": format!("{}/rest/v1", p.api_url()),
                "AUTH_URL": format!("{}/auth/v1", p.api_url()),
                "FUNCTIONS_URL": format!("{}/functions/v1", p.api_url()),
                "STORAGE_URL": format!("{}/storage/v1", p.api_url()),
                "MAILPIT_URL": mail_page(p),
                "DB_URL": format!("postgresql://postgres:postgres@127.0.0.1:{db_port}/{}", p.db_name),
                "JWT_SECRET": p.jwt_secret,
                "ANON_KEY": p.anon_key,
                "SERVICE_ROLE_KEY": p.service_role_key,
                "PUBLISHABLE_KEY": p.publishable_key,
                "SECRET_KEY": p.secret_key,
                "SIGNING_KEYS_PATH": p.signing_keys_path,
                "SIGNING_KEYS": signing_keys(p)
                    .into_iter()
                    .map(|(kid, alg, state)| json!({"kid": kid, "alg": alg, "state": state}))
                    .collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({ "projects": list })
}

pub fn as_text(projects: &[ProjectConfig], db_port: u16) -> String {
    let mut out = String::new();
    for (i, p) in projects.iter().enumerate() {
        let title = if i == 0 {
            "devstack is running.".to_owned()
        } else {
            format!("tenant project `{}`:", p.name)
        };
        out.push_str(&format!(
            "\n{title}\n\n         API URL: {api}\n    Functions URL: {api}/functions/v1\n     Storage URL: {api}/storage/v1\n{mail}          DB URL: postgresql://postgres:postgres@127.0.0.1:{db_port}/{db}\n      JWT secret: {secret}\n        anon key: {anon}\nservice_role key: {service}\n Publishable key: {publishable}\n      Secret key: {secret_key}\n",
            api = p.api_url(),
            mail = mail_page(p).map_or_else(String::new, |url| format!("     Mailpit URL: {url}\n")),
            db = p.db_name,
            secret = p.jwt_secret,
            anon = p.anon_key,
            service = p.service_role_key,
            publishable = p.publishable_key,
            secret_key = p.secret_key,
        ));
        let keys = signing_keys(p);
        if keys.is_empty() {
            out.push_str("    Signing keys: none (legacy HS256 with the JWT secret)\n");
        }
        for (i, (kid, alg, state)) in keys.iter().enumerate() {
            let label = if i == 0 { "Signing keys:" } else { "" };
            out.push_str(&format!("{label:>16} {kid} {alg} ({state})\n"));
        }
    }
    out
}

/// `NAME="value"` lines for the main project, as `supabase status -o env` prints them.
pub fn as_env(project: &ProjectConfig, db_port: u16) -> Vec<(String, String)> {
    vec![
        ("API_URL".into(), project.api_url()),
        (
            "STORAGE_URL".into(),
            format!("{}/storage/v1", project.api_url()),
        ),
        ("MAILPIT_URL".into(), mail_page(project).unwrap_or_default()),
        (
            "DB_URL".into(),
            format!(
                "postgresql://postgres:postgres@127.0.0.1:{db_port}/{}",
                project.db_name
            ),
        ),
        ("JWT_SECRET".into(), project.jwt_secret.clone()),
        ("ANON_KEY".into(), project.anon_key.clone()),
        ("SERVICE_ROLE_KEY".into(), project.service_role_key.clone()),
        ("PUBLISHABLE_KEY".into(), project.publishable_key.clone()),
        ("SECRET_KEY".into(), project.secret_key.clone()),
    ]
}

/// The mail catcher's page on its own port (its JSON API is under `…/api/v1`), printed under the
/// name `supabase status` gives Mailpit's URL; the main project's only.
pub fn mail_page(project: &ProjectConfig) -> Option<String> {
    project.mail_url().map(|url| url + "/")
}

/// The variables the Workers read, under the names Supabase gives its Edge Functions, and the
/// mail transport pointed at devstack's mail catcher (Resend's API shape, the project's mail key). The
/// JWT secret only for a `--legacy-jwt` project: with signing keys the functions verify through
/// the JWKS, as a new Supabase project's functions do.
pub fn worker_vars(project: &ProjectConfig) -> Vec<(String, String)> {
    let mut vars = Vec::new();
    if let Some(mail_url) = project.mail_url() {
        vars.extend([
            ("MAIL_TRANSPORT".into(), "resend".into()),
            ("MAIL_API_URL".into(), mail_url),
            ("MAIL_API_KEY".into(), project.mail_api_key.clone()),
        ]);
    }
    vars.extend([
        ("SUPABASE_URL".into(), project.api_url()),
        ("SUPABASE_ANON_KEY".into(), project.anon_key.clone()),
        (
            "SUPABASE_SERVICE_ROLE_KEY".into(),
            project.service_role_key.clone(),
        ),
    ]);
    if project.signing_keys_path.is_none() {
        vars.push(("SUPABASE_JWT_SECRET".into(), project.jwt_secret.clone()));
    }
    vars
}

/// Variables devstack writes only in some modes, cleared when the mode does not have them.
pub const OPTIONAL_WORKER_VARS: [&str; 1] = ["SUPABASE_JWT_SECRET"];

/// Sets `vars` in a `.dev.vars` file and drops the lines of `unset`, keeping every other line
/// (secrets a developer added) as it was; the file is the owner's only (mode 0600).
pub fn update_dev_vars(
    path: &Path,
    vars: &[(String, String)],
    unset: &[&str],
) -> std::io::Result<()> {
    let existing = std::fs::read_to_string(path).unwrap_or_default();
    let mut lines: Vec<String> = existing
        .lines()
        .filter(|line| {
            let key = line.split('=').next().unwrap_or("").trim();
            !vars.iter().any(|(k, _)| k == key) && !unset.contains(&key)
        })
        .map(str::to_owned)
        .collect();
    for (k, v) in vars {
        lines.push(format!("{k}=\"{v}\""));
    }
    crate::secret_file::write(path, (lines.join("\n") + "\n").as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mail_catcher_is_printed_and_configured_on_its_own_port() {
        let dir = std::env::temp_dir().join(format!("devstack-status-{}", uuid::Uuid::new_v4()));
        let choice = crate::config::SigningKeysChoice::Legacy;
        let mut main =
            ProjectConfig::load_or_create(&dir, "default", 54321, "postgres", &choice).unwrap();
        main.mail_port = Some(54324);
        assert!(
            as_text(std::slice::from_ref(&main), 54322)
                .contains("     Mailpit URL: http://127.0.0.1:54324/\n")
        );
        assert_eq!(
            as_json(std::slice::from_ref(&main), 54322)["projects"][0]["MAILPIT_URL"],
            "http://127.0.0.1:54324/"
        );
        let vars = worker_vars(&main);
        let var = |name: &str| {
            vars.iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(var("MAIL_API_URL"), Some("http://127.0.0.1:54324"));
        assert_eq!(var("MAIL_API_KEY"), Some(main.mail_api_key.as_str()));
        assert!(main.mail_api_key.len() > 30, "a key of the project's own");

        let mut tenant = main.clone();
        tenant.mail_port = None;
        assert!(!as_text(&[tenant.clone()], 54322).contains("Mailpit"));
        assert!(
            worker_vars(&tenant)
                .iter()
                .all(|(k, _)| !k.starts_with("MAIL_"))
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn dev_vars_keep_other_lines() {
        let path = std::env::temp_dir().join(format!("devvars-{}", uuid::Uuid::new_v4()));
        std::fs::write(
            &path,
            "MY_SECRET=\"keep\"\nSUPABASE_URL=\"old\"\nSUPABASE_JWT_SECRET=\"s\"\n",
        )
        .unwrap();
        update_dev_vars(
            &path,
            &[("SUPABASE_URL".into(), "new".into())],
            &OPTIONAL_WORKER_VARS,
        )
        .unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, "MY_SECRET=\"keep\"\nSUPABASE_URL=\"new\"\n");
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "dev.vars holds the service key: owner only");
    }
}
