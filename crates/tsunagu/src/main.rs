//! `tsunagu`: the one binary. Thin: parsing and printing; the work is in the library crates.
use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tsunagu::admin;
use tsunagu_core::config::{parse_key, Settings, EXAMPLE_CONFIG};
use tsunagu_core::{Clock, Role, SystemClock, TokenScope};
use tsunagu_store::Db;

/// mimalloc: under concurrent webhooks glibc's malloc took a fifth of the CPU (callgrind).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "tsunagu",
    version,
    about = "Omnichannel patient communication for clinics (繋ぐ)"
)]
struct Cli {
    /// TOML settings file (also TSUNAGU_CONFIG); environment variables override it.
    #[arg(long, global = true, env = "TSUNAGU_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server and delivery workers.
    Serve {
        /// Run only the web server (workers elsewhere).
        #[arg(long)]
        no_workers: bool,
    },
    /// Run only the delivery workers (pair with `serve --no-workers`; PostgreSQL).
    Worker,
    /// A sample clinic with every channel emulated, on embedded SQLite, for trying tsunagu.
    Demo(tsunagu::demo::DemoArgs),
    /// Apply database migrations and exit.
    Migrate,
    /// Manage clinics.
    Clinic {
        #[command(subcommand)]
        cmd: ClinicCmd,
    },
    /// Manage staff accounts.
    User {
        #[command(subcommand)]
        cmd: UserCmd,
    },
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        cmd: TokenCmd,
    },
    /// The audit trail.
    Audit {
        #[command(subcommand)]
        cmd: AuditCmd,
    },
    /// Re-encrypt every stored secret under a new TSUNAGU_ENCRYPTION_KEY, in one transaction.
    /// Stop tsunagu first. The old key comes from TSUNAGU_OLD_ENCRYPTION_KEY or standard input.
    RotateKey {
        /// Read the old key from standard input instead of TSUNAGU_OLD_ENCRYPTION_KEY.
        #[arg(long)]
        old_key_stdin: bool,
        /// Check that the old key opens every secret; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Print the commented example configuration.
    PrintConfig,
}

#[derive(Subcommand)]
enum ClinicCmd {
    /// Create a clinic (and an organization when --org is not given or is new).
    Create {
        #[arg(long)]
        slug: String,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "Asia/Tokyo")]
        timezone: String,
        #[arg(long, default_value = "ja")]
        locale: String,
        #[arg(long)]
        org: Option<String>,
    },
}

#[derive(Subcommand)]
enum UserCmd {
    /// Add a staff member to a clinic; an existing e-mail gains a membership.
    Add {
        #[arg(long)]
        clinic: String,
        #[arg(long)]
        email: String,
        /// owner, admin, clinician, receptionist, broadcaster or analyst
        #[arg(long)]
        role: String,
        /// Read the password from standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
        /// The name colleagues see (e.g. "受付 田中"); without it, the e-mail's local part.
        #[arg(long)]
        name: Option<String>,
    },
}

#[derive(Subcommand)]
enum TokenCmd {
    /// Create an API token; the token alone is printed on the last line.
    Create {
        #[arg(long)]
        clinic: String,
        #[arg(long)]
        name: String,
        /// admin, read, reply or broadcast (repeat or comma-separate for several)
        #[arg(long, value_delimiter = ',', required = true)]
        scope: Vec<String>,
    },
}

#[derive(Subcommand)]
enum AuditCmd {
    /// Recompute the hash chain; exits non-zero if any row was changed or removed.
    Verify,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_env("TSUNAGU_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: starting the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The key in use until now: from the environment or standard input, never from the command
/// line (which other users of the machine can read).
fn old_key(from_stdin: bool) -> anyhow::Result<[u8; 32]> {
    let from_env = std::env::var("TSUNAGU_OLD_ENCRYPTION_KEY").ok();
    let text = match (from_stdin, from_env) {
        (true, Some(_)) => anyhow::bail!(
            "give the old key once: TSUNAGU_OLD_ENCRYPTION_KEY or --old-key-stdin, not both"
        ),
        (true, None) => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .context("reading the old key from stdin")?;
            s
        }
        (false, Some(k)) => k,
        (false, None) => anyhow::bail!(
            "the old key is missing: set TSUNAGU_OLD_ENCRYPTION_KEY or pass --old-key-stdin"
        ),
    };
    parse_key(&text)
        .map_err(|_| anyhow::anyhow!("the old key must be 64 hex characters (32 bytes)"))
}

async fn open_db(settings: &Settings) -> anyhow::Result<Db> {
    Db::connect_and_migrate(&settings.database_url())
        .await
        .context("opening the database (TSUNAGU_DATABASE_URL)")
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    if let Command::PrintConfig = cli.command {
        print!("{EXAMPLE_CONFIG}");
        return Ok(());
    }
    if let Command::Demo(args) = cli.command {
        return tsunagu::demo::run(args).await;
    }
    let settings = Settings::load(cli.config.as_deref())?;
    let clock = SystemClock;
    match cli.command {
        Command::Serve { no_workers } => {
            let mut settings = settings;
            if no_workers {
                settings.outbox.workers = false;
            }
            let listen = settings.listen.clone();
            let services = tsunagu::Services::start(settings, Arc::new(SystemClock)).await?;
            let listener = tokio::net::TcpListener::bind(&listen)
                .await
                .with_context(|| format!("listening on {listen}"))?;
            tracing::info!("tsunagu listening on http://{listen}");
            services.run(listener, tsunagu::shutdown_signal()).await
        }
        Command::Worker => {
            let services = tsunagu::Services::start(settings, Arc::new(SystemClock)).await?;
            tracing::info!("tsunagu delivery worker running");
            services.worker.run(tsunagu::shutdown_signal()).await;
            Ok(())
        }
        Command::Migrate => {
            let db = open_db(&settings).await?;
            println!("migrations applied ({})", db.backend().name());
            Ok(())
        }
        Command::Clinic {
            cmd:
                ClinicCmd::Create {
                    slug,
                    name,
                    timezone,
                    locale,
                    org,
                },
        } => {
            let db = open_db(&settings).await?;
            let spec = admin::ClinicSpec {
                slug: &slug,
                name: &name,
                timezone: &timezone,
                locale: &locale,
                org: org.as_deref(),
            };
            let id = admin::create_clinic(&db, spec, clock.now_ms()).await?;
            println!("clinic {slug} created: {id}");
            Ok(())
        }
        Command::User {
            cmd:
                UserCmd::Add {
                    clinic,
                    email,
                    role,
                    password_stdin,
                    name,
                },
        } => {
            let role: Role = role.parse().map_err(anyhow::Error::msg)?;
            let password = if password_stdin {
                let mut s = String::new();
                std::io::stdin()
                    .read_to_string(&mut s)
                    .context("reading the password from stdin")?;
                Some(s.trim_end_matches(['\n', '\r']).to_string())
            } else {
                None
            };
            let db = open_db(&settings).await?;
            let added = tsunagu_accounts::staff::add_named_user(
                &db,
                &clinic,
                &email,
                name.as_deref(),
                role,
                password.as_deref(),
                clock.now_ms(),
            )
            .await?;
            if added.existed {
                println!("{email} now has the {} role in {clinic}", role.as_str());
            } else {
                println!(
                    "staff {email} created with the {} role in {clinic}",
                    role.as_str()
                );
            }
            if let Some(p) = added.generated_password {
                println!("generated password (shown once): {p}");
            }
            Ok(())
        }
        Command::Token {
            cmd:
                TokenCmd::Create {
                    clinic,
                    name,
                    scope,
                },
        } => {
            let scopes = scope
                .iter()
                .map(|s| s.trim().parse::<TokenScope>())
                .collect::<Result<Vec<_>, _>>()
                .map_err(anyhow::Error::msg)?;
            let db = open_db(&settings).await?;
            let (id, token) =
                admin::create_token(&db, &clinic, &name, &scopes, clock.now_ms()).await?;
            eprintln!("token {id} created for {clinic}; store it now, it is not shown again:");
            println!("{token}");
            Ok(())
        }
        Command::Audit {
            cmd: AuditCmd::Verify,
        } => {
            let db = open_db(&settings).await?;
            let rows = admin::verify_audit(&db).await?;
            println!("audit trail intact ({rows} rows)");
            Ok(())
        }
        Command::RotateKey {
            old_key_stdin,
            dry_run,
        } => {
            let new = settings.encryption_key()?;
            let old = old_key(old_key_stdin)?;
            let db = open_db(&settings).await?;
            let done =
                tsunagu::rotate_key::rotate(&db, &old, &new, dry_run, clock.now_ms()).await?;
            if dry_run {
                println!("dry run: the old key opens every secret; would re-encrypt {done}; nothing changed");
            } else {
                println!("re-encrypted {done}; run tsunagu with the new TSUNAGU_ENCRYPTION_KEY from now on");
            }
            Ok(())
        }
        Command::PrintConfig | Command::Demo(_) => Ok(()),
    }
}
