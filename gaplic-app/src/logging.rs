//! Logging: `[logging]` of the application file, turned into the
//! process's `tracing` subscriber (writing to standard error).

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::file::{LogFormat, Logging};

/// Checks `EnvFilter` directives, for the application file's checks.
///
/// # Errors
///
/// Why the directives cannot be read.
pub(crate) fn check_filter(directives: &str) -> Result<(), String> {
    EnvFilter::builder()
        .parse(directives)
        .map(drop)
        .map_err(|error| format!("bad filter `{directives}`: {error}"))
}

/// Sets the process's subscriber from `logging`.
///
/// # Errors
///
/// When a subscriber is set already (by the program before the launcher
/// ran): the message says `[logging]` is not applied.
pub(crate) fn init(logging: &Logging) -> Result<(), String> {
    let filter = EnvFilter::builder()
        .with_default_directive(logging.level.into())
        .parse(logging.filter.as_deref().unwrap_or(""))
        .map_err(|error| format!("bad filter: {error}"))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let result = match logging.format {
        LogFormat::Full => builder.try_init(),
        LogFormat::Compact => builder.compact().try_init(),
        LogFormat::Pretty => builder.pretty().try_init(),
    };
    result.map_err(|_| {
        "a log subscriber was set before the launcher ran: [logging] is not applied".to_owned()
    })
}
