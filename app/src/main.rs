//! `playschool`: serves the LM-Playschool site and runs its admin commands.

use anyhow::Context;
use clap::{Parser, Subcommand};
use playschool::domain::readme_table::parse_date;
use playschool::model::PhaseKind;
use playschool::server::{config::Config, db, evidence, import, site, store};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "playschool", version, about = "The LM-Playschool challenge platform")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the site (the default). Reads DATABASE_URL and LEPTOS_SITE_ADDR.
    Serve,
    /// Upsert the rows of a markdown leaderboard table (as in the challenge README) into the dev phase.
    ///
    /// Rows are matched by submission name; `tba` scores are stored as missing.
    /// Every row is checked first: a file with a bad row imports nothing.
    ImportTable {
        /// The markdown file holding the table.
        file: PathBuf,
    },
    /// Recompute the scores of a `playpen eval` results folder (or a .zip / .tar.gz of one)
    /// and check the claimed ones.
    ///
    /// Prints the recomputed scores, the per-game table and the verdict as JSON;
    /// exits non-zero when a number differs by more than 0.01 or a file cannot be read.
    Verify {
        /// The folder holding `<model>.val.json`, `clem/results.csv` and `static/results.csv`, or an archive of it.
        path: PathBuf,
    },
    /// Set the last day on which a phase takes entries (`none`: no deadline).
    SetDeadline {
        /// `dev` or `test`.
        phase: String,
        /// The last day, like 2025-09-15, or `none`.
        last_day: String,
    },
}

/// Verdicts go to stdout as JSON; only verified results exit 0.
fn verify(path: &std::path::Path) -> anyhow::Result<()> {
    let scratch = tempfile::tempdir().context("cannot make a scratch folder")?;
    let folder = if path.is_dir() {
        path.to_path_buf()
    } else {
        evidence::unpack(path, scratch.path(), &evidence::Limits::default())
            .with_context(|| format!("{}", path.display()))?
    };
    let verification = eval_runner::scoring::verify::verify_dir(&folder)?;
    println!("{}", serde_json::to_string_pretty(&verification)?);
    if !verification.verified {
        anyhow::bail!("{} number(s) differ from their recomputation", verification.mismatches.len());
    }
    Ok(())
}

async fn run(command: Command) -> anyhow::Result<()> {
    if let Command::Verify { path } = &command {
        return verify(path);
    }
    let config = Config::from_env()?;
    match command {
        Command::Verify { .. } => unreachable!("handled above: needs no configuration"),
        Command::Serve => {
            let db = db::open(&config.database_url).await?;
            site::serve(&config, db).await
        }
        Command::SetDeadline { phase, last_day } => {
            let kind = PhaseKind::parse(&phase)
                .ok_or_else(|| anyhow::anyhow!("phase \"{phase}\" is neither dev nor test"))?;
            let last_day = match last_day.as_str() {
                "none" => None,
                date => Some(parse_date(date).map_err(anyhow::Error::msg)?),
            };
            let db = db::open(&config.database_url).await?;
            store::set_deadline(&db, kind, last_day.as_deref()).await?;
            println!("the {phase} phase now takes entries {}", last_day.map_or("with no deadline".to_string(), |d| format!("through {d}")));
            Ok(())
        }
        Command::ImportTable { file } => {
            let markdown = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let markdown = String::from_utf8(markdown)
                .map_err(|e| anyhow::anyhow!("{} is not UTF-8 text (byte {})", file.display(), e.utf8_error().valid_up_to()))?;
            let db = db::open(&config.database_url).await?;
            match import::import_table(&db, &markdown).await {
                Ok(report) => {
                    println!(
                        "imported {} rows into the dev phase ({} new, {} updated)",
                        report.added + report.updated,
                        report.added,
                        report.updated
                    );
                    Ok(())
                }
                Err(import::ImportError::Rows(errors)) => {
                    for error in &errors {
                        eprintln!("{}:{}: {}", file.display(), error.line, error.message);
                    }
                    anyhow::bail!("nothing was imported: fix the rows above and run again")
                }
                Err(other) => Err(other.into()),
            }
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "playschool=info,tower_http=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command.unwrap_or(Command::Serve))) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
