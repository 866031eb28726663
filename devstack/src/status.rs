//! What `supabase status` prints, for people, for scripts (`--json`, `--env`) and for `wrangler dev`
//! (`.dev.vars`).

use std::path::Path;

use serde_json::{Value, json};

use crate::config::ProjectConfig;

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
                "MAILPIT_URL": mail_url(p),
                "DB_URL": format!("postgresql://postgres:postgres@127.0.0.1:{db_port}/{}", p.db_name),
                "JWT_SECRET": p.jwt_secret,
                "ANON_KEY": p.anon_key,
                "SERVICE_ROLE_KEY": p.service_role_key,
                "PUBLISHABLE_KEY": p.publishable_key,
                "SECRET_KEY": p.secret_key,
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
            "\n{title}\n\n         API URL: {api}\n    Functions URL: {api}/functions/v1\n     Mailpit URL: {mail}\n          DB URL: postgresql://postgres:postgres@127.0.0.1:{db_port}/{db}\n      JWT secret: {secret}\n        anon key: {anon}\nservice_role key: {service}\n Publishable key: {publishable}\n      Secret key: {secret_key}\n",
            api = p.api_url(),
            mail = mail_url(p),
            db = p.db_name,
            secret = p.jwt_secret,
            anon = p.anon_key,
            service = p.service_role_key,
            publishable = p.publishable_key,
            secret_key = p.secret_key,
        ));
    }
    out
}

/// `NAME="value"` lines for the main project, as `supabase status -o env` prints them.
pub fn as_env(project: &ProjectConfig, db_port: u16) -> Vec<(String, String)> {
    vec![
        ("API_URL".into(), project.api_url()),
        ("MAILPIT_URL".into(), mail_url(project)),
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

/// The mail catcher's page (its JSON API is under `…/api/v1`), printed under the name
/// `supabase status` gives Mailpit's URL.
pub fn mail_url(project: &ProjectConfig) -> String {
    format!("{}{}/", project.api_url(), crate::mail::MAIL_PREFIX)
}

/// The variables the Workers read, under the names Supabase gives its Edge Functions, and the
/// mail transport pointed at devstack's mail catcher (Resend's API shape, any key accepted).
pub fn worker_vars(project: &ProjectConfig) -> Vec<(String, String)> {
    vec![
        ("MAIL_TRANSPORT".into(), "resend".into()),
        (
            "MAIL_API_URL".into(),
            format!("{}{}", project.api_url(), crate::mail::MAIL_PREFIX),
        ),
        ("MAIL_API_KEY".into(), "re_devstack_local".into()),
        ("SUPABASE_URL".into(), project.api_url()),
        ("SUPABASE_ANON_KEY".into(), project.anon_key.clone()),
        (
            "SUPABASE_SERVICE_ROLE_KEY".into(),
            project.service_role_key.clone(),
        ),
        ("SUPABASE_JWT_SECRET".into(), project.jwt_secret.clone()),
    ]
}

/// Sets `vars` in a `.dev.vars` file, keeping every other line (secrets a developer added) as it was.
pub fn update_dev_vars(path: &Path, vars: &[(String, String)]) -> std::io::Result<()> {
    let existing = std::fs::read_to_string(path).unwrap_or_default();
    let mut lines: Vec<String> = existing
        .lines()
        .filter(|line| {
            let key = line.split('=').next().unwrap_or("").trim();
            !vars.iter().any(|(k, _)| k == key)
        })
        .map(str::to_owned)
        .collect();
    for (k, v) in vars {
        lines.push(format!("{k}=\"{v}\""));
    }
    std::fs::write(path, lines.join("\n") + "\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_vars_keep_other_lines() {
        let path = std::env::temp_dir().join(format!("devvars-{}", uuid::Uuid::new_v4()));
        std::fs::write(&path, "MY_SECRET=\"keep\"\nSUPABASE_URL=\"old\"\n").unwrap();
        update_dev_vars(&path, &[("SUPABASE_URL".into(), "new".into())]).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, "MY_SECRET=\"keep\"\nSUPABASE_URL=\"new\"\n");
    }
}
