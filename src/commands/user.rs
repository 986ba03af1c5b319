//! `dhis2gw user …` and `dhis2gw token …`: admin bootstrap and recovery from the shell, straight
//! on the database (pending migrations are applied first, so they work on a fresh install).
//! Passwords are read from stdin (one line), or prompted for without echo on a terminal.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use deadpool_postgres::Pool;

use crate::auth::accounts::{self, NewAccount};
use crate::auth::{AuthError, Role, api_tokens};
use crate::config::Settings;
use crate::db::{self, tokens, users};

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; the password is read from stdin (or prompted for).
    Add(AddUser),
    /// Set a user's password (read from stdin or prompted for); also lifts a lock-out.
    Passwd { username: String },
    /// List every user.
    List,
    /// Deactivate a user: every credential of theirs stops working.
    Disable { username: String },
    /// Reactivate a deactivated user.
    Enable { username: String },
    /// Lift a lock-out after too many failed logins.
    Unlock { username: String },
}

#[derive(Debug, Args)]
pub struct AddUser {
    pub username: String,
    #[arg(long, value_parser = parse_role, default_value = "viewer")]
    pub role: Role,
    #[arg(long, default_value = "")]
    pub firstname: String,
    #[arg(long, default_value = "")]
    pub lastname: String,
    #[arg(long)]
    pub email: Option<String>,
    #[arg(long, default_value = "")]
    pub telephone: String,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token for a user and print it (once) on stdout. Other tokens stay valid.
    Create {
        #[arg(long)]
        user: String,
        /// Lifetime in days; default `auth.api_token_ttl_days`.
        #[arg(long, conflicts_with = "no_expiry")]
        days: Option<u64>,
        /// A token that never expires.
        #[arg(long)]
        no_expiry: bool,
    },
    /// List API tokens (never the tokens themselves).
    List {
        #[arg(long)]
        user: Option<String>,
    },
    /// Revoke API tokens by id (see `token list`), or every token of a user.
    Revoke {
        #[arg(required_unless_present = "user")]
        ids: Vec<i64>,
        #[arg(long, conflicts_with = "ids")]
        user: Option<String>,
    },
}

fn parse_role(text: &str) -> Result<Role, String> {
    Role::parse(text).ok_or_else(|| format!("unknown role {text:?}: admin, submitter or viewer"))
}

async fn open(settings: &Settings) -> anyhow::Result<Pool> {
    let pool = db::connect(&settings.database).context("database.uri")?;
    db::migrate::run(&pool)
        .await
        .context("applying database migrations")?;
    Ok(pool)
}

/// The CLI's wording of an auth failure, with per-field problems spelled out.
fn explain(err: AuthError) -> anyhow::Error {
    match err {
        AuthError::Invalid(problems) => anyhow::anyhow!(
            "{}",
            problems
                .iter()
                .map(|(f, m)| format!("{f} {m}"))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        other => anyhow::Error::new(other),
    }
}

/// One line from stdin, or a no-echo prompt (asked twice) on a terminal.
fn read_password(username: &str) -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        let mut line = String::new();
        stdin.lock().read_line(&mut line)?;
        let password = line.trim_end_matches(['\n', '\r']).to_owned();
        if password.is_empty() {
            bail!("no password on stdin");
        }
        return Ok(password);
    }
    let first = prompt_hidden(&format!("Password for {username}: "))?;
    let second = prompt_hidden("Again: ")?;
    if first != second {
        bail!("the passwords differ");
    }
    Ok(first)
}

fn prompt_hidden(prompt: &str) -> anyhow::Result<String> {
    let stty = |arg: &str| {
        std::process::Command::new("stty")
            .arg(arg)
            .stdin(std::process::Stdio::inherit())
            .status()
    };
    eprint!("{prompt}");
    std::io::stderr().flush()?;
    let _ = stty("-echo");
    let mut line = String::new();
    let read = std::io::stdin().lock().read_line(&mut line);
    let _ = stty("echo");
    eprintln!();
    read?;
    Ok(line.trim_end_matches(['\n', '\r']).to_owned())
}

async fn user_named(pool: &Pool, username: &str) -> anyhow::Result<users::UserRow> {
    accounts::by_username(pool, username).await.map_err(explain)
}

pub async fn run_user(settings: Settings, command: UserCommand) -> anyhow::Result<()> {
    let pool = open(&settings).await?;
    match command {
        UserCommand::Add(add) => {
            let password = read_password(&add.username)?;
            let user = accounts::create(
                &pool,
                NewAccount {
                    username: add.username,
                    password,
                    firstname: add.firstname,
                    lastname: add.lastname,
                    email: add.email,
                    telephone: add.telephone,
                    role: Some(add.role),
                    is_active: true,
                },
            )
            .await
            .map_err(explain)?;
            println!(
                "created {} ({}, uid {})",
                user.username, user.role, user.uid
            );
        }
        UserCommand::Passwd { username } => {
            let user = user_named(&pool, &username).await?;
            let password = read_password(&username)?;
            accounts::set_password(&pool, user.id, &password)
                .await
                .map_err(explain)?;
            println!("password of {username} changed");
        }
        UserCommand::List => {
            println!(
                "{:<11}  {:<24}  {:<9}  {:<6}  {:<6}  last login",
                "uid", "username", "role", "active", "locked"
            );
            let db = pool.get().await?;
            let locked_names = crate::db::login_throttle::locked_usernames(&db).await?;
            for u in users::all(&db).await? {
                let locked = locked_names.contains(&u.username);
                let last = u
                    .last_login
                    .map(|t| t.to_rfc3339())
                    .unwrap_or_else(|| "-".into());
                println!(
                    "{:<11}  {:<24}  {:<9}  {:<6}  {:<6}  {last}",
                    u.uid,
                    u.username,
                    u.role,
                    yes_no(u.is_active),
                    yes_no(locked)
                );
            }
        }
        UserCommand::Disable { username } => set_active(&pool, &username, false).await?,
        UserCommand::Enable { username } => set_active(&pool, &username, true).await?,
        UserCommand::Unlock { username } => {
            let user = user_named(&pool, &username).await?;
            crate::db::login_throttle::forget_user(&pool.get().await?, user.id).await?;
            println!("{username} unlocked");
        }
    }
    pool.close();
    Ok(())
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

async fn set_active(pool: &Pool, username: &str, active: bool) -> anyhow::Result<()> {
    let user = user_named(pool, username).await?;
    let changes = users::UserChanges {
        is_active: Some(active),
        ..Default::default()
    };
    accounts::update(pool, &user.uid, changes)
        .await
        .map_err(explain)?;
    println!("{username} {}", if active { "enabled" } else { "disabled" });
    Ok(())
}

pub async fn run_token(settings: Settings, command: TokenCommand) -> anyhow::Result<()> {
    let pool = open(&settings).await?;
    match command {
        TokenCommand::Create {
            user,
            days,
            no_expiry,
        } => {
            let row = user_named(&pool, &user).await?;
            let ttl = if no_expiry {
                None
            } else {
                Some(days.unwrap_or(settings.auth.api_token_ttl_days))
            };
            let issued = api_tokens::issue_additional(&pool, row.id, ttl)
                .await
                .map_err(explain)?;
            let expires = issued
                .expires_at
                .map(|t| t.to_rfc3339())
                .unwrap_or_else(|| "never".into());
            eprintln!(
                "API token {} for {user}, expires {expires}; it is shown only now:",
                issued.id
            );
            println!("{}", issued.token);
        }
        TokenCommand::List { user } => {
            let user_id = match user {
                Some(name) => Some(user_named(&pool, &name).await?.id),
                None => None,
            };
            println!(
                "{:>6}  {:<24}  {:<6}  {:<25}  last used",
                "id", "user", "active", "expires"
            );
            for t in tokens::list_api_tokens(&pool.get().await?, user_id).await? {
                let when = |t: Option<chrono::DateTime<chrono::Utc>>, none: &str| {
                    t.map(|t| t.to_rfc3339()).unwrap_or_else(|| none.into())
                };
                println!(
                    "{:>6}  {:<24}  {:<6}  {:<25}  {}",
                    t.id,
                    t.username,
                    yes_no(t.is_active),
                    when(t.expires_at, "never"),
                    when(t.last_used_at, "-")
                );
            }
        }
        TokenCommand::Revoke { ids, user } => {
            let db = pool.get().await?;
            if let Some(name) = user {
                let row = user_named(&pool, &name).await?;
                let n = tokens::deactivate_api_tokens(&db, row.id, None).await?;
                println!("revoked {n} token(s) of {name}");
            } else {
                for id in ids {
                    if tokens::deactivate_api_token(&db, id).await? {
                        println!("revoked token {id}");
                    } else {
                        bail!("no active token with id {id}");
                    }
                }
            }
        }
    }
    pool.close();
    Ok(())
}
