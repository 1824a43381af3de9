//! The `gaplic` command.
//!
//! `gaplic new NAME [--path DIR] [--gaplic-path PATH]` writes a ready cargo
//! project of a gaplic application: a gclass with a `GTimer` child, its
//! application file, a `main` with the launcher, and a test on the virtual
//! clock.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod new;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Tools for gaplic applications.
#[derive(Parser, Debug)]
#[command(name = "gaplic", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Writes a ready project of a gaplic application
    ///
    /// The project has a gclass with a GTimer child (src/lib.rs), its
    /// application file (app.toml), a main with the launcher and a test on
    /// the virtual clock. Then: cd NAME && cargo run -- serve -c app.toml.
    New {
        /// The package name.
        name: String,
        /// The directory to create (./NAME when not given); it must not
        /// exist.
        #[arg(long, value_name = "DIR")]
        path: Option<PathBuf>,
        /// Depends on the gaplic crate in this directory, instead of on
        /// the released version.
        #[arg(long, value_name = "PATH")]
        gaplic_path: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let Cli { command } = Cli::parse();
    match command {
        Command::New {
            name,
            path,
            gaplic_path,
        } => {
            let request = new::NewProject {
                name,
                path,
                gaplic_path,
            };
            match new::new_project(&request) {
                Ok(dir) => {
                    println!(
                        "Created the gaplic application `{}` in {}\n\n    cd {}\n    cargo run -- serve -c app.toml\n    cargo test",
                        request.name,
                        dir.display(),
                        dir.display()
                    );
                    ExitCode::SUCCESS
                }
                Err(error) => {
                    eprintln!("gaplic new: {error}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}
