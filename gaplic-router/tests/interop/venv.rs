//! The Python of the GinsFSM 0.7.3 virtual environment, shared by the
//! interoperability tests and the bench that runs against GinsFSM.

use std::path::PathBuf;
use std::process::{Command, Stdio};

/// The Python of the GinsFSM environment (`$GINSFSM_VENV`, else
/// `target/ginsfsm-venv`), made by `tests/interop/setup.sh` if need be;
/// the reason when it cannot be had.
pub fn ginsfsm_python() -> Result<PathBuf, String> {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let venv = std::env::var_os("GINSFSM_VENV")
        .map_or_else(|| here.join("../target/ginsfsm-venv"), PathBuf::from);
    let output = Command::new("bash")
        .arg(here.join("tests/interop/setup.sh"))
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run tests/interop/setup.sh: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "tests/interop/setup.sh failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(venv.join("bin/python"))
}
